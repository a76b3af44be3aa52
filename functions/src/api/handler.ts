/** The /api/* Lambda (API Gateway HTTP API, payload 2.0). Routes: ./routes.ts. */
import { createHttpHandler } from '../http/app';
import { routes } from './routes';

export const handler = createHttpHandler({ serviceName: 'medlake-api', routes });
