/** The `authorization` section of a route and the top-level `roles` section, as validated by the schema. */
export interface RoleConfig {
  readonly inherits?: readonly string[];
  readonly permissions?: readonly string[];
}

export type RolesConfig = Readonly<Record<string, RoleConfig>>;

export interface OwnershipRuleConfig {
  /** Selector(s) of the operations the rule guards. */
  readonly operation: string | readonly string[];
  /** `path.<name>`, `query.<name>`, `header.<name>` or `body./json/pointer`. */
  readonly param: string;
  /** `identity.subject`, `identity.tenant`, `identity.consumerId`, `identity.attributes.<path>`. */
  readonly equals?: string;
  /** Like `equals`, naming a list the request value must be one of. */
  readonly in?: string;
  /** Let requests without the parameter through (default false: a missing value is denied). */
  readonly optional?: boolean;
  /** Callers holding one of these roles skip the rule (support staff, admins). */
  readonly exemptRoles?: readonly string[];
}

export interface PolicyConfig {
  readonly url: string;
  readonly timeoutMs?: number;
  readonly cacheTtlMs?: number;
  readonly cacheSize?: number;
  /** Selectors of the operations that need the policy decision (default every operation). */
  readonly operations?: readonly string[];
  /** Send the parsed JSON request body as `input.body` (default false). */
  readonly includeBody?: boolean;
  /** Extra request headers (e.g. `authorization: Bearer ${secret:opa_token}`). */
  readonly headers?: Readonly<Record<string, string>>;
}

export type PropertyList = readonly string[] | '*';

export interface PropertyRuleConfig {
  /** Selector(s); default `*` (every operation of the route). */
  readonly operation?: string | readonly string[];
  /** Role -> request body properties it may write. */
  readonly write?: Readonly<Record<string, PropertyList>>;
  /** Role -> response body properties it may read. */
  readonly read?: Readonly<Record<string, PropertyList>>;
}

export interface TimeWindowConfig {
  readonly days?: readonly ('mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun')[];
  readonly from: string;
  readonly to: string;
  readonly tz?: string;
}

export interface ConditionsConfig {
  readonly ipAllow?: readonly string[];
  readonly ipDeny?: readonly string[];
  readonly requireMtls?: boolean;
  readonly timeWindows?: readonly TimeWindowConfig[];
}

export interface EnumerationConfig {
  readonly maxDistinctIds?: number;
  readonly windowSec?: number;
  readonly action?: 'report' | 'throttle';
}

export interface AuthorizationConfig {
  readonly roles?: RolesConfig;
  readonly rbac?: boolean;
  readonly rolesFrom?: { readonly claim: string | readonly string[] };
  readonly scopes?: 'openapi' | false | Readonly<Record<string, readonly string[]>>;
  readonly privileged?: readonly string[];
  readonly methodOverride?: boolean;
  readonly ownership?: readonly OwnershipRuleConfig[];
  readonly policy?: PolicyConfig;
  readonly properties?: readonly PropertyRuleConfig[];
  readonly conditions?: ConditionsConfig;
  readonly enumeration?: EnumerationConfig | false;
  readonly maxBodyBytes?: number;
  readonly maxResponseBytes?: number;
}
