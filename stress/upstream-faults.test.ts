// npm run test:stress: the reliability cases at full scale (RELIABILITY.md).
import { upstreamFaultCases } from './cases/upstream-faults.js';
import { FULL } from './scale.js';

upstreamFaultCases(FULL);
