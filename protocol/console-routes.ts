/**
 * The reseller console's routes (functions/handlers/console.ts serves them): its static files,
 * public (the files hold no data; the console calls the API with the user's key), served by the
 * API itself so that the console and the API share one origin. Not routes of the API:
 * /openapi.json does not describe them.
 *
 * `GET /console` sends the browser to `/console/`, the page whose relative links the files are.
 */
export const consoleRouteKeys = ['GET /console', 'GET /console/{proxy+}'] as const;

export type ConsoleRouteKey = (typeof consoleRouteKeys)[number];

/** Where the console lives, under the API's base URL. */
export const consolePath = '/console/';
