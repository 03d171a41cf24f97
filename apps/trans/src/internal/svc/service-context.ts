import type { Config } from '../config/config.ts';

/** What every logic shares (go-zero's ServiceContext): the config now; database clients when logic needs them. */
export interface ServiceContext {
  readonly config: Config;
}

export const newServiceContext = (config: Config): ServiceContext => ({ config });
