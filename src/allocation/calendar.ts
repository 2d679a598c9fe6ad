/**
 * Calendar arithmetic for caps and schedules, in a provider's IANA zone. Luxon does the zone
 * math (DST included): a day that is 23 or 25 hours long still starts at local midnight.
 */
import { DateTime } from 'luxon';
import { WEEKDAYS, type CapPeriod, type Schedule } from '../contracts/rules.js';

/** A source of the current time, passed in so tests can set it (STYLE.md). */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();

/** Where each cap's current period began, for a provider in `zone`; weeks start on Monday. */
export function periodStarts(now: Date, zone: string): Record<CapPeriod, Date> {
  const local = DateTime.fromJSDate(now, { zone });
  return {
    hour: local.startOf('hour').toJSDate(),
    day: local.startOf('day').toJSDate(),
    // Luxon's week is the ISO week: Monday 00:00.
    week: local.startOf('week').toJSDate(),
    month: local.startOf('month').toJSDate(),
  };
}

function minutesOf(time: string): number {
  return Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}

/**
 * Whether `now` falls in a window of the schedule. A window belongs to the day it opens on:
 * `fri 22:00–06:00` is open Friday from 22:00 and Saturday until 06:00; `to` is exclusive.
 * An empty schedule is always open.
 */
export function isOpen(schedule: Schedule, now: Date, zone: string): boolean {
  if (schedule.length === 0) return true;
  const local = DateTime.fromJSDate(now, { zone });
  const today = WEEKDAYS[local.weekday - 1]!;
  const yesterday = WEEKDAYS[(local.weekday + 5) % 7]!;
  const minute = local.hour * 60 + local.minute;
  return schedule.some((window) => {
    const from = minutesOf(window.from);
    const to = minutesOf(window.to);
    if (from < to) return window.days.includes(today) && minute >= from && minute < to;
    return (
      (window.days.includes(today) && minute >= from) ||
      (window.days.includes(yesterday) && minute < to)
    );
  });
}
