#!/usr/bin/env node
// Open an HTML file in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core),
// save a full-page screenshot, and report what went wrong on the page.
//
//   node tests/node/render_report.js FILE.html SCREENSHOT.png
//
// Prints one JSON document: {"consoleErrors", "pageErrors", "requests", "images", "title",
// "height"}. "requests" lists every URL the page tried to fetch other than data: and the file
// itself (a self-contained report fetches nothing). Exits 0 when it could check, 2 when not.
"use strict";

const path = require("path");
const { pathToFileURL } = require("url");

async function main() {
  const [file, screenshot] = process.argv.slice(2);
  if (!file || !screenshot) {
    console.error("usage: render_report.js FILE.html SCREENSHOT.png");
    process.exit(2);
  }
  const { chromium } = require("playwright-core");
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const report = { consoleErrors: [], pageErrors: [], requests: [], images: [] };
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const url = pathToFileURL(path.resolve(file)).href;
    page.on("console", (message) => {
      if (message.type() === "error") report.consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => report.pageErrors.push(String(error)));
    page.on("request", (request) => {
      const target = request.url();
      if (target !== url && !target.startsWith("data:")) report.requests.push(target);
    });
    await page.goto(url, { waitUntil: "load" });
    report.images = await page.$$eval("img", (images) =>
      images.map((img) => ({ alt: img.alt, width: img.naturalWidth, complete: img.complete }))
    );
    report.title = await page.title();
    report.height = await page.evaluate(() => document.body.scrollHeight);
    await page.screenshot({ path: screenshot, fullPage: true });
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(report));
}

main().catch((error) => {
  console.error(String(error && error.stack ? error.stack : error));
  process.exit(2);
});
