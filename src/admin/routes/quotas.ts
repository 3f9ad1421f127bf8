import type { AdminModule } from '../router.js';
import { registerQuotaRoutes } from '../../traffic/quota-admin.js';

/** Calendar quota usage and reset (see traffic/quota-admin.ts). */
const module: AdminModule = (router, context) => registerQuotaRoutes(router, context);
export default module;
