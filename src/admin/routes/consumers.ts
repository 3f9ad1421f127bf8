import type { AdminModule } from '../router.js';
import { registerConsumerRoutes } from '../consumers.js';

/** Consumers, API keys and OAuth clients (see admin/consumers.ts). */
const module: AdminModule = (router, context) => registerConsumerRoutes(router, context);
export default module;
