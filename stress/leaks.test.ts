// npm run test:stress: the reliability cases at full scale (RELIABILITY.md).
import { leakCases } from './cases/leaks.js';
import { FULL } from './scale.js';

leakCases(FULL);
