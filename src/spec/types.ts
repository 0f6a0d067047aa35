/** The spec file as the schema admits it, and the per-site desired state it resolves to. */

export type PackageState = 'present' | 'absent' | 'latest';

export type RawPackage = string | { pkgpath: string; pattern?: string; state?: PackageState };

export type RawBackend = 'local' | { type: 'local'; shell?: string[]; environment?: Record<string, string> };

export interface RawSiteSettings {
  vo?: string;
  softwareArea?: string;
  prefix?: string;
  repository?: string;
  lockStaleAfter?: number | string;
  jobTimeout?: number | string;
  backend?: RawBackend;
  packages?: RawPackage[];
}

export interface RawSpec {
  apiVersion: 'gridpkg/v1';
  defaults?: RawSiteSettings;
  sites: Record<string, RawSiteSettings>;
}

/** Where a value came from, for messages that point into the spec. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export interface Requirement {
  pkgpath: string;
  pattern: string | undefined;
  state: PackageState;
  source: SourceLocation;
}

export interface LocalBackendConfig {
  type: 'local';
  shell: string[];
  environment: Record<string, string>;
}

export type BackendConfig = LocalBackendConfig;

export interface DesiredState {
  site: string;
  vo: string | undefined;
  softwareArea: string | undefined;
  prefix: string | undefined;
  repository: string | undefined;
  lockStaleSeconds: number;
  jobTimeoutSeconds: number;
  backend: BackendConfig;
  /** Sorted by PKGPATH; at most one requirement per PKGPATH. */
  requirements: Requirement[];
}
