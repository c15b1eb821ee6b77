// npm run test:stress: the reliability cases at full scale (RELIABILITY.md).
import { hostileInputCases } from './cases/hostile-input.js';
import { FULL } from './scale.js';

hostileInputCases(FULL);
