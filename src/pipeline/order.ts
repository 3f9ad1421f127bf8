/**
 * The one place the order of stages is decided. Each stage definition takes its `order` from
 * here; the route builder sorts each phase by it. Gaps leave room for new stages.
 */
export const ORDER = {
  access: {
    /** cheap refusals before anything else: connection/IP policy, shedding */
    ipPolicy: 100,
    methodOverride: 150,
    cors: 180,
    authnBruteForce: 190,
    oauthServer: 195,
    authn: 200,
    operationMatch: 250,
    rateLimit: 300,
    quota: 310,
    throttle: 320,
    authzConditions: 390,
    authzRbac: 400,
    authzScopes: 410,
    authzObject: 420,
    authzProperties: 430,
    enumerationGuard: 440,
    requestValidation: 500,
    injection: 600,
    identityHeaders: 700,
    upstreamCredentials: 710,
    concurrency: 800,
  },
  response: {
    upstreamErrors: 100,
    responseValidation: 200,
    propertyFilter: 300,
    sensitiveData: 400,
    rateLimitHeaders: 800,
    securityHeaders: 900,
  },
  log: {
    accessLog: 100,
    metrics: 200,
    audit: 300,
    enumerationDetector: 400,
  },
} as const;
