/**
 * Reading and driving the chat demo's page (demo/) from Playwright: what it lists, its link
 * state, sending, joining through a `?ws=` URL. Shared by the demo's browser tests.
 */
import type { Page } from 'playwright-core';
import type { FaultProxy } from './fault-proxy.js';

export interface Shown {
  id: string;
  text: string;
  state: string;
}

/** Every message the page lists, in order, with its state. */
export function messages(page: Page): Promise<Shown[]> {
  return page.$$eval('#messages > li.msg', (items) =>
    items.map((li) => ({
      id: (li as HTMLElement).dataset.id ?? '',
      text: li.querySelector('.text')?.textContent ?? '',
      state: (li as HTMLElement).dataset.state ?? '',
    })),
  );
}

/** Waits until the page lists exactly `count` messages, every one delivered. */
export async function waitForDelivered(
  page: Page,
  count: number,
  timeout = 10_000,
): Promise<Shown[]> {
  try {
    await page.waitForFunction(
      (n) => {
        const items = [...document.querySelectorAll<HTMLElement>('#messages > li.msg')];
        return items.length === n && items.every((li) => li.dataset.state === 'delivered');
      },
      count,
      { timeout, polling: 50 },
    );
  } catch (error) {
    const seen = await messages(page);
    throw new Error(
      `expected ${count} delivered messages, the page shows ${seen.length}: ${JSON.stringify(seen.map((m) => `${m.text}:${m.state}`))}`,
      { cause: error },
    );
  }
  return messages(page);
}

export function conn(page: Page): Promise<string | undefined> {
  return page.$eval('#conn', (el) => (el as HTMLElement).dataset.conn);
}

export async function waitForConn(page: Page, kind: string, timeout = 10_000): Promise<void> {
  await page.waitForFunction((k) => document.getElementById('conn')?.dataset.conn === k, kind, {
    timeout,
    polling: 50,
  });
}

export async function say(page: Page, text: string): Promise<void> {
  await page.fill('#text-input', text);
  await page.press('#text-input', 'Enter');
}

export async function join(
  page: Page,
  url: string,
  proxy: FaultProxy,
  name: string,
): Promise<void> {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${url}?ws=${encodeURIComponent(`${proxy.url}/ws`)}`);
  await page.fill('#name-input', name);
  await page.press('#name-input', 'Enter');
  await waitForConn(page, 'connected');
}

export async function members(page: Page): Promise<string[]> {
  return page.$$eval('#members .member-name', (items) =>
    items.map((span) => span.textContent ?? ''),
  );
}

/** Names shown as away in the member list. */
export async function away(page: Page): Promise<string[]> {
  return page.$$eval('#members li.away .member-name', (items) =>
    items.map((span) => span.textContent ?? ''),
  );
}
