import { DEFAULT_REFRESH_SECONDS, MAX_BACKOFF_MS, pollFrequency, statusText } from '../format';

describe('statusText', () => {
  it('counts the services and those deploying (Transitioning)', () => {
    expect(statusText([{ state: 'Healthy' }, { state: 'Transitioning' }])).toBe('2 services · 1 deploying');
    expect(statusText([{ state: 'Healthy' }, { state: 'Healthy' }])).toBe('2 services · 0 deploying');
  });

  it('says "service" for one and counts none as 0', () => {
    expect(statusText([{ state: 'transitioning' }])).toBe('1 service · 1 deploying');
    expect(statusText([])).toBe('0 services · 0 deploying');
  });

  it('does not count failed or unhealthy services as deploying', () => {
    expect(statusText([{ state: 'Failed' }, { state: 'Unhealthy' }, { state: 'Deleting' }])).toBe(
      '3 services · 0 deploying'
    );
  });
});

describe('pollFrequency', () => {
  it('polls at the setting, in milliseconds, backing off up to 30 s while the server fails', () => {
    expect(pollFrequency(2)).toEqual({ interval: 2000, backoff: true, max: MAX_BACKOFF_MS });
    expect(pollFrequency(0.5)).toEqual({ interval: 500, backoff: true, max: MAX_BACKOFF_MS });
  });

  it('backs off no further than the interval itself when it is longer than 30 s', () => {
    expect(pollFrequency(60)).toEqual({ interval: 60000, backoff: true, max: 60000 });
  });

  it('never polls faster than four times a second', () => {
    expect(pollFrequency(0.01).interval).toBe(250);
  });

  it.each([undefined, null, 'fast', 0, -3, NaN, Infinity])('uses the default for %p', seconds => {
    expect(pollFrequency(seconds).interval).toBe(DEFAULT_REFRESH_SECONDS * 1000);
  });
});
