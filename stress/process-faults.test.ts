// npm run test:stress: the reliability cases at full scale (RELIABILITY.md).
import { processFaultCases } from './cases/process-faults.js';
import { FULL } from './scale.js';

processFaultCases(FULL);
