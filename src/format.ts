/**
 * What the sidebar writes for a service: pure functions of the server's answer (and the time now), unit-tested
 * with jest (src/__tests__/format.spec.ts).
 */
import type { IProgress, IUsage } from './api';

/** A size in bytes as people read it: 512 B, 85.3 MB, 1 GB (powers of 1024, as top and docker stats). */
export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = Math.max(0, n);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = unit === 0 || value >= 100 || Number.isInteger(value) ? value.toFixed(0) : value.toFixed(1);
  return `${shown} ${units[unit]}`;
}

/**
 * CPU and memory: measured ones as "CPU 12% · 85.3 MB" (100% is one core busy, as top shows), a target's
 * requested size (aci cannot be measured from here) as "requested 1 CPU · 1 GB". Empty when there is nothing.
 */
export function usageText(usage: IUsage | null | undefined): string {
  if (!usage) {
    return '';
  }
  if (!usage.measured) {
    const cores = Number.isInteger(usage.cpu_cores) ? usage.cpu_cores.toFixed(0) : usage.cpu_cores.toString();
    return `requested ${cores} CPU · ${bytes(usage.memory_bytes)}`;
  }
  const percent = usage.cpu_cores * 100;
  const cpu = percent > 0 && percent < 1 ? '<1' : percent.toFixed(0);
  return `CPU ${cpu}% · ${bytes(usage.memory_bytes)}`;
}

const STATES = ['healthy', 'transitioning', 'unhealthy', 'failed', 'deleting'];

/** The badge's colour class for a state; an unknown state gets a neutral one rather than a made-up colour. */
export function badgeClass(state: string): string {
  const known = STATES.includes(state.toLowerCase()) ? state.toLowerCase() : 'unknown';
  return `aci-Service-badge aci-state-${known}`;
}

/** A duration: "42 s", "3 min 5 s", "2 h 10 min". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) {
    return `${s} s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ${s % 60} s`;
  }
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** How long ago a Unix time was, coarsely: "just now", "5 min ago", "3 h ago", "2 d ago". */
export function age(created: number, now: number = Date.now() / 1000): string {
  const s = Math.max(0, now - created);
  if (s < 60) {
    return 'just now';
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ago`;
  }
  if (s < 86400) {
    return `${Math.floor(s / 3600)} h ago`;
  }
  return `${Math.floor(s / 86400)} d ago`;
}

/**
 * A deployment in progress, from its journal's summary (core/progress.py): "wait for health: init() runs · 12 s",
 * the time counted from the deployment's start. Empty when no step has started or the deployment has finished.
 */
export function progressText(progress: IProgress | null | undefined, now: number = Date.now() / 1000): string {
  if (!progress || !progress.step || progress.finished) {
    return '';
  }
  const elapsed = progress.started ? ` · ${duration(now - progress.started)}` : '';
  return `${progress.step}${progress.message ? ': ' + progress.message : ''}${elapsed}`;
}

/** What the status bar counts: services, and those deploying (state Transitioning). */
export interface IServiceState {
  state: string;
}

/** The status bar's words: "2 services · 1 deploying" (the current workspace's services). */
export function statusText(services: IServiceState[]): string {
  const deploying = services.filter(s => s.state.toLowerCase() === 'transitioning').length;
  return `${services.length} service${services.length === 1 ? '' : 's'} · ${deploying} deploying`;
}

/** The refresh interval when the setting is missing or not a number (the schema's default). */
export const DEFAULT_REFRESH_SECONDS = 2;
/** The slowest refresh while the server fails: the poll doubles its interval up to this (or the interval). */
export const MAX_BACKOFF_MS = 30000;

/**
 * How often to ask the server, from the "refreshInterval" setting (seconds): that interval (never below a quarter
 * of a second), growing while the server fails (lumino's jittered back-off) up to 30 s, or up to the interval
 * itself when it is longer. The shape of @lumino/polling's frequency.
 */
export function pollFrequency(seconds: unknown): { interval: number; backoff: boolean; max: number } {
  const valid = typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0;
  const interval = Math.round(Math.max(0.25, valid ? seconds : DEFAULT_REFRESH_SECONDS) * 1000);
  return { interval, backoff: true, max: Math.max(MAX_BACKOFF_MS, interval) };
}
