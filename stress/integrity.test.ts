// npm run test:stress: the reliability cases at full scale (RELIABILITY.md).
import { integrityCases } from './cases/integrity.js';
import { FULL } from './scale.js';

integrityCases(FULL);
