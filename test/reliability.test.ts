// The reliability cases of `npm run test:stress` (stress/cases/), scaled down for `npm test`.
import { fuzzCases } from '../stress/cases/fuzz.js';
import { hostileInputCases } from '../stress/cases/hostile-input.js';
import { integrityCases } from '../stress/cases/integrity.js';
import { leakCases } from '../stress/cases/leaks.js';
import { processFaultCases } from '../stress/cases/process-faults.js';
import { securityCases } from '../stress/cases/security.js';
import { upstreamFaultCases } from '../stress/cases/upstream-faults.js';
import { QUICK } from '../stress/scale.js';

integrityCases(QUICK);
leakCases(QUICK);
upstreamFaultCases(QUICK);
processFaultCases(QUICK);
hostileInputCases(QUICK);
securityCases(QUICK);
fuzzCases(QUICK);
