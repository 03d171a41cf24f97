import { describe, expect, test } from 'vitest';
import { BACKEND_ENV, chooseBackend, type EngineStatus, requestedBackend } from './backend.ts';
import { TestkitError } from './errors.ts';
import { parseStore, STORES } from './stores.ts';

const up = async (): Promise<EngineStatus> => ({ ok: true });
const down = async (): Promise<EngineStatus> => ({ ok: false, reason: 'connect ENOENT /var/run/docker.sock' });
const never = async (): Promise<EngineStatus> => {
  throw new Error('the engine must not be asked');
};

describe('requestedBackend', () => {
  test('auto by default', () => {
    expect(requestedBackend(undefined, {})).toBe('auto');
    expect(requestedBackend('auto', {})).toBe('auto');
  });

  test(`${BACKEND_ENV} overrides auto, but not an explicit option; empty means unset`, () => {
    expect(requestedBackend(undefined, { [BACKEND_ENV]: 'local' })).toBe('local');
    expect(requestedBackend('auto', { [BACKEND_ENV]: 'docker' })).toBe('docker');
    expect(requestedBackend('local', { [BACKEND_ENV]: 'docker' })).toBe('local');
    expect(requestedBackend('docker', { [BACKEND_ENV]: 'local' })).toBe('docker');
    expect(requestedBackend(undefined, { [BACKEND_ENV]: '' })).toBe('auto');
  });

  test('unknown values are errors that list the valid ones', () => {
    expect(() => requestedBackend('podman', {})).toThrow(
      /unknown backend "podman" in options\.backend; valid: auto, local, docker/,
    );
    expect(() => requestedBackend(undefined, { [BACKEND_ENV]: 'k8s' })).toThrow(
      new RegExp(`unknown backend "k8s" in ${BACKEND_ENV}`),
    );
  });
});

describe('chooseBackend', () => {
  test('local never asks for an engine', async () => {
    await expect(chooseBackend('local', never)).resolves.toBe('local');
  });

  test('auto: docker when an engine answers, else local', async () => {
    await expect(chooseBackend('auto', up)).resolves.toBe('docker');
    await expect(chooseBackend('auto', down)).resolves.toBe('local');
  });

  test('docker without an engine: an error that names both ways out', async () => {
    await expect(chooseBackend('docker', up)).resolves.toBe('docker');
    const err = await chooseBackend('docker', down).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TestkitError);
    expect((err as Error).message).toMatch(/no Docker engine answers \(connect ENOENT \/var\/run\/docker\.sock\)/);
    expect((err as Error).message).toMatch(/Start Docker/);
    expect((err as Error).message).toMatch(new RegExp(`backend: 'local' or ${BACKEND_ENV}=local`));
  });
});

describe('parseStore', () => {
  test('boltdb by default; the three stores', () => {
    expect(parseStore(undefined)).toBe('boltdb');
    for (const s of STORES) expect(parseStore(s)).toBe(s);
  });

  test('unknown store: the error lists the valid ones', () => {
    expect(() => parseStore('postgres')).toThrow('unknown dtm store "postgres"; valid stores: boltdb, mysql, redis');
  });
});
