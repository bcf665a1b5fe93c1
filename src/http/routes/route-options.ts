import type { ServiceContext } from '../../service/context.js';
import type { Authenticate } from '../plugins/authenticate.js';

/** What every route plugin is registered with. */
export interface RouteOptions {
  ctx: ServiceContext;
  authenticate: Authenticate;
}
