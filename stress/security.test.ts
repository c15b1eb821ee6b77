// npm run test:stress: the reliability cases at full scale (RELIABILITY.md).
import { securityCases } from './cases/security.js';
import { FULL } from './scale.js';

securityCases(FULL);
