// The backend names, apart from backend.ts (which reaches docker.ts): types.ts needs them without that.

/** Where the stack's servers run: child processes of the test, or containers. */
export type Backend = 'local' | 'docker';
/** What a caller may ask for; `auto` = docker when an engine answers, else local. */
export type BackendRequest = Backend | 'auto';
