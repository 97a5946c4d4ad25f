#!/usr/bin/env node
// Validate Teams app manifests and Adaptive Cards with Microsoft's own npm packages.
//
//   node tests/node/validate.js manifest [FILE]   FILE (or stdin): a manifest.json object
//   node tests/node/validate.js cards [FILE]      FILE (or stdin): [{"name": ..., "card": {...}}, ...]
//
// Prints one JSON document on stdout: {"errors": [...]} for a manifest, or a list of
// {"name", "events", "errors"} for cards. Exits 0 when it could check (even if it found
// problems: the Python tests read the report), 2 when it could not.
"use strict";

const fs = require("fs");
const path = require("path");

function readInput(file) {
  const text = file && file !== "-" ? fs.readFileSync(file, "utf8") : fs.readFileSync(0, "utf8");
  return JSON.parse(text);
}

// The official schema for the manifest's $schema, from the copy bundled in
// @microsoft/app-manifest: tests never fetch anything from the network.
function bundledSchemaPath(schemaUrl) {
  const { AppManifestUtils } = require("@microsoft/app-manifest");
  const suffix = AppManifestUtils.getLocalSchemaSuffix(schemaUrl || "");
  if (!suffix) return undefined;
  const buildDir = path.dirname(require.resolve("@microsoft/app-manifest"));
  const candidate = path.join(buildDir, suffix);
  return fs.existsSync(candidate) ? candidate : undefined;
}

async function validateManifest(manifest) {
  const { AppManifestUtils } = require("@microsoft/app-manifest");
  const schemaFile = bundledSchemaPath(manifest.$schema);
  if (!schemaFile) {
    return {
      errors: [`$schema ${manifest.$schema} is not one that @microsoft/app-manifest bundles`],
    };
  }
  const raw = fs.readFileSync(schemaFile, "utf8");
  const schema = JSON.parse(raw.replace(/\\a/g, "\\u0007").replace(/\\v/g, "\\u000b"));
  const errors = await AppManifestUtils.validateAgainstSchema(manifest, schema);
  return { errors, schema: path.relative(path.dirname(require.resolve("@microsoft/app-manifest")), schemaFile) };
}

// Properties each element keeps outside its property schema (parsed by hand in the library).
const STRUCTURAL = {
  AdaptiveCard: ["body", "actions", "msteams"],
  Container: ["items"],
  Column: ["items"],
  ColumnSet: ["columns"],
  ActionSet: ["actions"],
  Table: ["columns", "rows"],
  TableRow: ["cells"],
  TableCell: ["items"],
  RichTextBlock: ["inlines"],
  "Action.ShowCard": ["card"],
};

function propertyNames(cardObject) {
  const schema = cardObject.getSchema();
  const names = new Set(["fallback"]);
  for (let i = 0; i < schema.getCount(); i++) names.add(schema.getItemAt(i).name);
  return names;
}

// The adaptivecards parser ignores properties it does not know; Teams does too, silently.
// Report them, and walk the nested objects (facts, choices, images) the same way.
function unknownProperties(AC, cardObject, source, where, found) {
  if (!source || typeof source !== "object") return;
  const typeName = cardObject.getJsonTypeName ? cardObject.getJsonTypeName() : "";
  const known = propertyNames(cardObject);
  for (const key of STRUCTURAL[typeName] || []) known.add(key);
  for (const key of Object.keys(source)) {
    if (!known.has(key)) found.push(`${where}: unknown property "${key}" on ${typeName || "object"}`);
  }
  const schema = cardObject.getSchema();
  for (let i = 0; i < schema.getCount(); i++) {
    const prop = schema.getItemAt(i);
    const value = cardObject.getValue(prop);
    const nested = source[prop.name];
    const isChild = (v) =>
      v instanceof AC.SerializableObject && !(v instanceof AC.CardElement) && !(v instanceof AC.Action);
    if (Array.isArray(value) && Array.isArray(nested)) {
      value.forEach((item, index) => {
        if (isChild(item)) {
          unknownProperties(AC, item, nested[index], `${where}.${prop.name}[${index}]`, found);
        }
      });
    } else if (isChild(value)) {
      unknownProperties(AC, value, nested, `${where}.${prop.name}`, found);
    }
  }
}

function validateCard(AC, json) {
  const probe = new AC.SerializationContext();
  const version = AC.Version.parse(json.version || "", probe);
  const context = new AC.SerializationContext(version && version.isValid ? version : undefined);
  const unknown = [];
  const describe = (cardObject) => {
    const id = cardObject.id ? ` "${cardObject.id}"` : "";
    return `${cardObject.getJsonTypeName()}${id}`;
  };
  context.onParseElement = (element, source) =>
    unknownProperties(AC, element, source, describe(element), unknown);
  context.onParseAction = (action, source) =>
    unknownProperties(AC, action, source, describe(action), unknown);
  const card = new AC.AdaptiveCard();
  card.parse(json, context);
  unknownProperties(AC, card, json, "AdaptiveCard", unknown);
  const events = [];
  if (!version || !version.isValid) events.push(`card version ${JSON.stringify(json.version)} is not valid`);
  for (let i = 0; i < context.eventCount; i++) {
    const event = context.getEventAt(i);
    events.push(`${AC.ValidationEvent[event.event]}: ${event.message}`);
  }
  events.push(...unknown);
  const errors = card
    .validateProperties()
    .validationEvents.map((event) => `${AC.ValidationEvent[event.event]}: ${event.message}`);
  return { events, errors };
}

function validateCards(items) {
  const AC = require("adaptivecards/dist/adaptivecards.js");
  return items.map(({ name, card }) => ({ name, ...validateCard(AC, card) }));
}

async function main() {
  const [kind, file] = process.argv.slice(2);
  if (kind === "manifest") return validateManifest(readInput(file));
  if (kind === "cards") return validateCards(readInput(file));
  throw new Error("usage: validate.js manifest|cards [FILE]");
}

main().then(
  (report) => process.stdout.write(JSON.stringify(report) + "\n"),
  (error) => {
    process.stderr.write(`validate.js: ${error && error.stack ? error.stack : error}\n`);
    process.exit(2);
  },
);
