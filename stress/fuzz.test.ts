// npm run test:stress: the reliability cases at full scale (RELIABILITY.md).
import { fuzzCases } from './cases/fuzz.js';
import { FULL } from './scale.js';

fuzzCases(FULL);
