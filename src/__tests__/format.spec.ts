import { age, badgeClass, bytes, duration, progressText, usageText } from '../format';
import type { IProgress } from '../api';

describe('bytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [1024, '1 KB'],
    [1536, '1.5 KB'],
    [85.3 * 2 ** 20, '85.3 MB'],
    [150 * 2 ** 20, '150 MB'],
    [2 ** 30, '1 GB'],
    [-5, '0 B']
  ])('%d bytes read %s', (n, shown) => {
    expect(bytes(n)).toBe(shown);
  });
});

describe('usageText', () => {
  it('shows measured CPU as a percentage of one core, and memory with a unit', () => {
    expect(usageText({ cpu_cores: 0.12, memory_bytes: 85.3 * 2 ** 20, measured: true })).toBe('CPU 12% · 85.3 MB');
    expect(usageText({ cpu_cores: 1.5, memory_bytes: 2 ** 30, measured: true })).toBe('CPU 150% · 1 GB');
  });

  it('says <1% for a little CPU, and 0% for none', () => {
    expect(usageText({ cpu_cores: 0.004, memory_bytes: 0, measured: true })).toBe('CPU <1% · 0 B');
    expect(usageText({ cpu_cores: 0, memory_bytes: 0, measured: true })).toBe('CPU 0% · 0 B');
  });

  it('labels a requested size as requested, never as a measurement', () => {
    expect(usageText({ cpu_cores: 1, memory_bytes: 2 ** 30, measured: false })).toBe('requested 1 CPU · 1 GB');
    expect(usageText({ cpu_cores: 0.5, memory_bytes: 1.5 * 2 ** 30, measured: false })).toBe(
      'requested 0.5 CPU · 1.5 GB'
    );
  });

  it('is empty without usage (deploying, failed, an older server)', () => {
    expect(usageText(null)).toBe('');
    expect(usageText(undefined)).toBe('');
  });
});

describe('badgeClass', () => {
  it.each([
    ['Healthy', 'aci-state-healthy'],
    ['Transitioning', 'aci-state-transitioning'],
    ['Unhealthy', 'aci-state-unhealthy'],
    ['Failed', 'aci-state-failed'],
    ['Deleting', 'aci-state-deleting'],
    ['Exploded', 'aci-state-unknown'],
    ['', 'aci-state-unknown']
  ])('%s has %s', (state, cls) => {
    expect(badgeClass(state)).toBe(`aci-Service-badge ${cls}`);
  });
});

describe('duration and age', () => {
  it.each([
    [0, '0 s'],
    [59.4, '59 s'],
    [60, '1 min 0 s'],
    [125, '2 min 5 s'],
    [3600 + 600, '1 h 10 min'],
    [-3, '0 s']
  ])('%d s reads %s', (seconds, shown) => {
    expect(duration(seconds)).toBe(shown);
  });

  it.each([
    [30, 'just now'],
    [5 * 60, '5 min ago'],
    [3 * 3600 + 1, '3 h ago'],
    [2 * 86400 + 5, '2 d ago'],
    [-10, 'just now'] // a clock a little ahead of the server's
  ])('%d s ago reads %s', (ago, shown) => {
    expect(age(1_000_000 - ago, 1_000_000)).toBe(shown);
  });
});

describe('progressText (the deployment journal summed up by core/progress.py)', () => {
  const summary = (changes: Partial<IProgress>): IProgress => ({
    step: 'wait for health',
    message: 'init() runs, then the server answers',
    started: 1000,
    step_started: 1010,
    finished: false,
    state: null,
    ...changes
  });

  it('names the current step and its message, with the time since the deployment started', () => {
    expect(progressText(summary({}), 1012)).toBe('wait for health: init() runs, then the server answers · 12 s');
  });

  it('leaves out an empty message and an unknown start', () => {
    expect(progressText(summary({ message: '', started: null }), 1012)).toBe('wait for health');
  });

  it('is empty before the first step, once finished, and without a journal', () => {
    expect(progressText(summary({ step: null }), 1012)).toBe('');
    expect(progressText(summary({ finished: true, state: 'Healthy' }), 1012)).toBe('');
    expect(progressText(null, 1012)).toBe('');
  });
});
