#!/usr/bin/env node
import {
  CommandError,
  Progress,
  SystemMapIndex,
  checkToolchain,
  configValue,
  defaultCacheDir,
  ensureTarget,
  kbuildArgs,
  kbuildObjects,
  parseRelease,
  readSystemMap,
  run,
  runUnchecked,
  stderrSink,
  withLock
} from "./chunks/chunk-B2Q4NLRO.js";
import {
  ET_REL,
  ElfFormatError,
  FINDING_RULES,
  NULL_SYMBOL,
  ObjectIndex,
  RULE_CODES,
  R_X86_64_32,
  R_X86_64_32S,
  R_X86_64_64,
  R_X86_64_NONE,
  R_X86_64_PC32,
  R_X86_64_PC64,
  R_X86_64_PLT32,
  SHF_ALLOC,
  SHF_GROUP,
  SHF_INFO_LINK,
  SHF_MERGE,
  SHF_STRINGS,
  SHN_ABS,
  SHN_LORESERVE,
  SHN_XINDEX,
  SHT_GROUP,
  SHT_NOBITS,
  SHT_PROGBITS,
  SHT_RELA,
  SHT_STRTAB,
  SHT_SYMTAB,
  SHT_SYMTAB_SHNDX,
  STB_GLOBAL,
  STB_LOCAL,
  STB_WEAK,
  STT_FILE,
  STT_FUNC,
  STT_NOTYPE,
  STT_SECTION,
  coldOwner,
  describeFinding,
  diffObjects,
  finding,
  isColdPart,
  isExecutable,
  isFunction,
  isMergeConstants,
  isMergeStrings,
  isRuleCode,
  isSectionSymbol,
  newSection,
  readElf,
  relaFor,
  relocationName,
  relocationTarget,
  relocationWidth,
  shippedFunctions,
  specialEntriesByFunction,
  specialSectionLayout,
  summarize,
  symbolBytes
} from "./chunks/chunk-KWAWIE4T.js";
import {
  EXIT,
  OUTCOME_EXIT_CODES,
  UsageError,
  defineCli,
  runCli
} from "./chunks/chunk-DGMV7F27.js";

// src/create/cli.ts
import { rmSync } from "node:fs";
import path17 from "node:path";

// src/manifest/project-file.ts
import { readFile } from "node:fs/promises";
import path2 from "node:path";

// node_modules/js-yaml/dist/js-yaml.mjs
var NOT_RESOLVED = /* @__PURE__ */ Symbol("NOT_RESOLVED");
function defineScalarTag(tagName, options) {
  return {
    tagName,
    nodeKind: "scalar",
    implicit: options.implicit ?? false,
    matchByTagPrefix: options.matchByTagPrefix ?? false,
    implicitFirstChars: options.implicitFirstChars ?? null,
    resolve: options.resolve,
    identify: options.identify,
    represent: options.represent ?? ((data) => String(data)),
    representTagName: options.representTagName ?? (() => tagName)
  };
}
function defineSequenceTag(tagName, options) {
  const carrierIsResult = options.finalize === void 0;
  return {
    tagName,
    nodeKind: "sequence",
    implicit: false,
    matchByTagPrefix: options.matchByTagPrefix ?? false,
    create: options.create,
    addItem: options.addItem,
    finalize: options.finalize ?? ((carrier) => carrier),
    carrierIsResult,
    identify: options.identify,
    represent: options.represent ?? ((data) => data),
    representTagName: options.representTagName ?? (() => tagName)
  };
}
function defineMappingTag(tagName, options) {
  const carrierIsResult = options.finalize === void 0;
  return {
    tagName,
    nodeKind: "mapping",
    implicit: false,
    matchByTagPrefix: options.matchByTagPrefix ?? false,
    create: options.create,
    addPair: options.addPair,
    has: options.has,
    keys: options.keys,
    get: options.get,
    finalize: options.finalize ?? ((carrier) => carrier),
    carrierIsResult,
    identify: options.identify,
    represent: options.represent ?? ((data) => data),
    representTagName: options.representTagName ?? (() => tagName)
  };
}
var strTag = defineScalarTag("tag:yaml.org,2002:str", {
  resolve: (source) => source,
  identify: (data) => typeof data === "string"
});
var NULL_VALUES$1 = [
  "",
  "~",
  "null",
  "Null",
  "NULL"
];
var nullCoreTag = defineScalarTag("tag:yaml.org,2002:null", {
  implicit: true,
  implicitFirstChars: [
    "",
    "~",
    "n",
    "N"
  ],
  resolve: (source) => {
    if (NULL_VALUES$1.indexOf(source) !== -1) return null;
    return NOT_RESOLVED;
  },
  identify: (object) => object === null,
  represent: () => "null"
});
var nullJsonTag = defineScalarTag("tag:yaml.org,2002:null", {
  implicit: true,
  implicitFirstChars: ["n"],
  resolve: (source, isExplicit) => {
    if (source === "null" || isExplicit && source === "") return null;
    return NOT_RESOLVED;
  },
  identify: (object) => object === null,
  represent: () => "null"
});
var NULL_VALUES = [
  "",
  "~",
  "null",
  "Null",
  "NULL"
];
var nullYaml11Tag = defineScalarTag("tag:yaml.org,2002:null", {
  implicit: true,
  implicitFirstChars: [
    "",
    "~",
    "n",
    "N"
  ],
  resolve: (source) => {
    if (NULL_VALUES.indexOf(source) !== -1) return null;
    return NOT_RESOLVED;
  },
  identify: (object) => object === null,
  represent: () => "null"
});
var TRUE_VALUES$2 = [
  "true",
  "True",
  "TRUE"
];
var FALSE_VALUES$2 = [
  "false",
  "False",
  "FALSE"
];
var boolCoreTag = defineScalarTag("tag:yaml.org,2002:bool", {
  implicit: true,
  implicitFirstChars: [
    "t",
    "T",
    "f",
    "F"
  ],
  resolve: (source) => {
    if (TRUE_VALUES$2.indexOf(source) !== -1) return true;
    if (FALSE_VALUES$2.indexOf(source) !== -1) return false;
    return NOT_RESOLVED;
  },
  identify: (object) => Object.prototype.toString.call(object) === "[object Boolean]",
  represent: (object) => object ? "true" : "false"
});
var TRUE_VALUES$1 = ["true"];
var FALSE_VALUES$1 = ["false"];
var boolJsonTag = defineScalarTag("tag:yaml.org,2002:bool", {
  implicit: true,
  implicitFirstChars: ["t", "f"],
  resolve: (source) => {
    if (TRUE_VALUES$1.indexOf(source) !== -1) return true;
    if (FALSE_VALUES$1.indexOf(source) !== -1) return false;
    return NOT_RESOLVED;
  },
  identify: (object) => Object.prototype.toString.call(object) === "[object Boolean]",
  represent: (object) => object ? "true" : "false"
});
var TRUE_VALUES = [
  "true",
  "True",
  "TRUE",
  "y",
  "Y",
  "yes",
  "Yes",
  "YES",
  "on",
  "On",
  "ON"
];
var FALSE_VALUES = [
  "false",
  "False",
  "FALSE",
  "n",
  "N",
  "no",
  "No",
  "NO",
  "off",
  "Off",
  "OFF"
];
var boolYaml11Tag = defineScalarTag("tag:yaml.org,2002:bool", {
  implicit: true,
  implicitFirstChars: [
    "y",
    "Y",
    "n",
    "N",
    "t",
    "T",
    "f",
    "F",
    "o",
    "O"
  ],
  resolve: (source) => {
    if (TRUE_VALUES.indexOf(source) !== -1) return true;
    if (FALSE_VALUES.indexOf(source) !== -1) return false;
    return NOT_RESOLVED;
  },
  identify: (object) => Object.prototype.toString.call(object) === "[object Boolean]",
  represent: (object) => object ? "true" : "false"
});
var YAML_INTEGER_IMPLICIT_PATTERN$1 = /* @__PURE__ */ new RegExp("^(?:0o[0-7]+|0x[0-9a-fA-F]+|[-+]?[0-9]+)$");
var YAML_INTEGER_EXPLICIT_PATTERN$1 = /* @__PURE__ */ new RegExp("^(?:[-+]?0b[0-1]+|[-+]?0o[0-7]+|[-+]?0x[0-9a-fA-F]+|[-+]?[0-9]+)$");
function parseYamlInteger$2(source) {
  let value = source;
  let sign = 1;
  if (value[0] === "-" || value[0] === "+") {
    if (value[0] === "-") sign = -1;
    value = value.slice(1);
  }
  if (value.startsWith("0b")) return sign * parseInt(value.slice(2), 2);
  if (value.startsWith("0o")) return sign * parseInt(value.slice(2), 8);
  if (value.startsWith("0x")) return sign * parseInt(value.slice(2), 16);
  return sign * parseInt(value, 10);
}
function resolveYamlInteger$2(source, isExplicit) {
  if (isExplicit) {
    if (!YAML_INTEGER_EXPLICIT_PATTERN$1.test(source)) return NOT_RESOLVED;
  } else if (!YAML_INTEGER_IMPLICIT_PATTERN$1.test(source)) return NOT_RESOLVED;
  const result = parseYamlInteger$2(source);
  return Number.isFinite(result) ? result : NOT_RESOLVED;
}
var intCoreTag = defineScalarTag("tag:yaml.org,2002:int", {
  implicit: true,
  implicitFirstChars: [
    "-",
    "+",
    ..."0123456789"
  ],
  resolve: resolveYamlInteger$2,
  identify: (object) => Number.isInteger(object) && !Object.is(object, -0) && object.toString(10).indexOf("e") < 0,
  represent: (object) => object.toString(10)
});
var YAML_INTEGER_IMPLICIT_PATTERN = /* @__PURE__ */ new RegExp("^-?(?:0|[1-9][0-9]*)$");
var YAML_INTEGER_EXPLICIT_PATTERN = /* @__PURE__ */ new RegExp("^(?:[-+]?0b[0-1]+|[-+]?0o[0-7]+|[-+]?0x[0-9a-fA-F]+|[-+]?[0-9]+)$");
function parseYamlInteger$1(source) {
  let value = source;
  let sign = 1;
  if (value[0] === "-" || value[0] === "+") {
    if (value[0] === "-") sign = -1;
    value = value.slice(1);
  }
  if (value.startsWith("0b")) return sign * parseInt(value.slice(2), 2);
  if (value.startsWith("0o")) return sign * parseInt(value.slice(2), 8);
  if (value.startsWith("0x")) return sign * parseInt(value.slice(2), 16);
  return sign * parseInt(value, 10);
}
function resolveYamlInteger$1(source, isExplicit) {
  if (isExplicit) {
    if (!YAML_INTEGER_EXPLICIT_PATTERN.test(source)) return NOT_RESOLVED;
  } else if (!YAML_INTEGER_IMPLICIT_PATTERN.test(source)) return NOT_RESOLVED;
  const result = parseYamlInteger$1(source);
  return Number.isFinite(result) ? result : NOT_RESOLVED;
}
var intJsonTag = defineScalarTag("tag:yaml.org,2002:int", {
  implicit: true,
  implicitFirstChars: ["-", ..."0123456789"],
  resolve: resolveYamlInteger$1,
  identify: (object) => Number.isInteger(object) && !Object.is(object, -0) && object.toString(10).indexOf("e") < 0,
  represent: (object) => object.toString(10)
});
var YAML_INTEGER_PATTERN = /* @__PURE__ */ new RegExp("^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+|[-+]?(?:0|[1-9][0-9_]*))$");
function parseYamlInteger(source) {
  let value = source.replace(/_/g, "");
  let sign = 1;
  if (value[0] === "-" || value[0] === "+") {
    if (value[0] === "-") sign = -1;
    value = value.slice(1);
  }
  if (value.startsWith("0b")) return sign * parseInt(value.slice(2), 2);
  if (value.startsWith("0x")) return sign * parseInt(value.slice(2), 16);
  if (value.includes(":")) {
    let result = 0;
    for (const part of value.split(":")) result = result * 60 + Number(part);
    return sign * result;
  }
  if (value !== "0" && value[0] === "0") return sign * parseInt(value, 8);
  return sign * parseInt(value, 10);
}
function resolveYamlInteger(source) {
  if (!YAML_INTEGER_PATTERN.test(source)) return NOT_RESOLVED;
  const result = parseYamlInteger(source);
  return Number.isFinite(result) ? result : NOT_RESOLVED;
}
var intYaml11Tag = defineScalarTag("tag:yaml.org,2002:int", {
  implicit: true,
  implicitFirstChars: [
    "-",
    "+",
    ..."0123456789"
  ],
  resolve: resolveYamlInteger,
  identify: (object) => Number.isInteger(object) && !Object.is(object, -0) && object.toString(10).indexOf("e") < 0,
  represent: (object) => object.toString(10)
});
var YAML_FLOAT_PATTERN$1 = /* @__PURE__ */ new RegExp("^(?:[-+]?[0-9]+(?:\\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|[-+]?\\.[0-9]+(?:[eE][-+]?[0-9]+)?|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))$");
var YAML_FLOAT_SPECIAL_PATTERN$1 = /* @__PURE__ */ new RegExp("^(?:[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))$");
function resolveYamlFloat$2(source) {
  if (!YAML_FLOAT_PATTERN$1.test(source)) return NOT_RESOLVED;
  let value = source.toLowerCase();
  const sign = value[0] === "-" ? -1 : 1;
  if ("+-".includes(value[0])) value = value.slice(1);
  if (value === ".inf") return sign === 1 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  if (value === ".nan") return NaN;
  const result = sign * parseFloat(value);
  if (Number.isFinite(result) || YAML_FLOAT_SPECIAL_PATTERN$1.test(source)) return result;
  return NOT_RESOLVED;
}
function representYamlFloat$2(object) {
  if (isNaN(object)) return ".nan";
  if (object === Number.POSITIVE_INFINITY) return ".inf";
  if (object === Number.NEGATIVE_INFINITY) return "-.inf";
  if (Object.is(object, -0)) return "-0.0";
  const result = object.toString(10);
  return /^[-+]?[0-9]+e/.test(result) ? result.replace("e", ".e") : result;
}
var floatCoreTag = defineScalarTag("tag:yaml.org,2002:float", {
  implicit: true,
  implicitFirstChars: [
    "-",
    "+",
    ".",
    ..."0123456789"
  ],
  resolve: resolveYamlFloat$2,
  identify: (object) => typeof object === "number" && (!Number.isInteger(object) || Object.is(object, -0) || object.toString(10).indexOf("e") >= 0),
  represent: representYamlFloat$2
});
var YAML_FLOAT_IMPLICIT_PATTERN = /* @__PURE__ */ new RegExp("^-?(?:0|[1-9][0-9]*)(?:\\.[0-9]*)?(?:[eE][-+]?[0-9]+)?$");
var YAML_FLOAT_EXPLICIT_PATTERN = /* @__PURE__ */ new RegExp("^(?:[-+]?[0-9]+(?:\\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|[-+]?\\.[0-9]+(?:[eE][-+]?[0-9]+)?|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))$");
function resolveYamlFloat$1(source, isExplicit) {
  if (isExplicit) {
    if (!YAML_FLOAT_EXPLICIT_PATTERN.test(source)) return NOT_RESOLVED;
    let value = source.toLowerCase();
    const sign = value[0] === "-" ? -1 : 1;
    if ("+-".includes(value[0])) value = value.slice(1);
    if (value === ".inf") return sign === 1 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    if (value === ".nan") return NaN;
    const result2 = sign * parseFloat(value);
    return Number.isFinite(result2) ? result2 : NOT_RESOLVED;
  }
  if (!YAML_FLOAT_IMPLICIT_PATTERN.test(source)) return NOT_RESOLVED;
  const result = Number(source);
  if (Number.isFinite(result)) return result;
  return NOT_RESOLVED;
}
function representYamlFloat$1(object) {
  if (isNaN(object)) return ".nan";
  if (object === Number.POSITIVE_INFINITY) return ".inf";
  if (object === Number.NEGATIVE_INFINITY) return "-.inf";
  if (Object.is(object, -0)) return "-0.0";
  const result = object.toString(10);
  return /^[-+]?[0-9]+e/.test(result) ? result.replace("e", ".e") : result;
}
var floatJsonTag = defineScalarTag("tag:yaml.org,2002:float", {
  implicit: true,
  implicitFirstChars: ["-", ..."0123456789"],
  resolve: resolveYamlFloat$1,
  identify: (object) => typeof object === "number" && (!Number.isInteger(object) || Object.is(object, -0) || object.toString(10).indexOf("e") >= 0),
  represent: representYamlFloat$1
});
var YAML_FLOAT_PATTERN = /* @__PURE__ */ new RegExp("^(?:[-+]?(?:(?:[0-9][0-9_]*)?\\.[0-9_]*)(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))$");
var YAML_FLOAT_SPECIAL_PATTERN = /* @__PURE__ */ new RegExp("^(?:[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))$");
function resolveYamlFloat(source) {
  if (!YAML_FLOAT_PATTERN.test(source)) return NOT_RESOLVED;
  let value = source.toLowerCase().replace(/_/g, "");
  const sign = value[0] === "-" ? -1 : 1;
  if ("+-".includes(value[0])) value = value.slice(1);
  if (value === ".inf") return sign === 1 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  if (value === ".nan") return NaN;
  let result = 0;
  if (value.includes(":")) {
    for (const part of value.split(":")) result = result * 60 + Number(part);
    result *= sign;
  } else result = sign * parseFloat(value);
  if (Number.isFinite(result) || YAML_FLOAT_SPECIAL_PATTERN.test(source)) return result;
  return NOT_RESOLVED;
}
function representYamlFloat(object) {
  if (isNaN(object)) return ".nan";
  if (object === Number.POSITIVE_INFINITY) return ".inf";
  if (object === Number.NEGATIVE_INFINITY) return "-.inf";
  if (Object.is(object, -0)) return "-0.0";
  const result = object.toString(10);
  return /^[-+]?[0-9]+e/.test(result) ? result.replace("e", ".e") : result;
}
var floatYaml11Tag = defineScalarTag("tag:yaml.org,2002:float", {
  implicit: true,
  implicitFirstChars: [
    "-",
    "+",
    ".",
    ..."0123456789"
  ],
  resolve: resolveYamlFloat,
  identify: (object) => typeof object === "number" && (!Number.isInteger(object) || Object.is(object, -0) || object.toString(10).indexOf("e") >= 0),
  represent: representYamlFloat
});
var mergeTag = defineScalarTag("tag:yaml.org,2002:merge", {
  implicit: true,
  implicitFirstChars: ["<"],
  resolve: (source, isExplicit) => {
    if (source === "<<" || isExplicit && source === "") return "<<";
    return NOT_RESOLVED;
  },
  identify: () => false
});
var BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;
function resolveYamlBinary(source) {
  const input = source.replace(/\s/g, "");
  if (input.length % 4 !== 0 || !BASE64_PATTERN.test(input)) return NOT_RESOLVED;
  const binary = atob(input);
  const result = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) result[index] = binary.charCodeAt(index);
  return result;
}
function representYamlBinary(object) {
  let binary = "";
  for (let index = 0; index < object.length; index++) binary += String.fromCharCode(object[index]);
  return btoa(binary);
}
var binaryTag = defineScalarTag("tag:yaml.org,2002:binary", {
  resolve: resolveYamlBinary,
  identify: (object) => Object.prototype.toString.call(object) === "[object Uint8Array]",
  represent: representYamlBinary
});
var YAML_DATE_REGEXP = /* @__PURE__ */ new RegExp("^([0-9][0-9][0-9][0-9])-([0-9][0-9])-([0-9][0-9])$");
var YAML_TIMESTAMP_REGEXP = /* @__PURE__ */ new RegExp("^([0-9][0-9][0-9][0-9])-([0-9][0-9]?)-([0-9][0-9]?)(?:[Tt]|[ \\t]+)([0-9][0-9]?):([0-9][0-9]):([0-9][0-9])(?:\\.([0-9]*))?(?:[ \\t]*(Z|([-+])([0-9][0-9]?)(?::([0-9][0-9]))?))?$");
function makeUtcDate(year, month, day, hour = 0, minute = 0, second = 0, fraction = 0) {
  const date = new Date(Date.UTC(year, month, day, hour, minute, second, fraction));
  date.setUTCFullYear(year, month, day);
  return date;
}
function resolveYamlTimestamp(source) {
  let match = YAML_DATE_REGEXP.exec(source);
  if (match === null) match = YAML_TIMESTAMP_REGEXP.exec(source);
  if (match === null) return NOT_RESOLVED;
  const year = +match[1];
  const month = +match[2] - 1;
  const day = +match[3];
  if (!match[4]) {
    const date2 = makeUtcDate(year, month, day);
    if (date2.getUTCFullYear() !== year || date2.getUTCMonth() !== month || date2.getUTCDate() !== day) return NOT_RESOLVED;
    return date2;
  }
  const hour = +match[4];
  const minute = +match[5];
  const second = +match[6];
  let fraction = 0;
  if (hour > 23 || minute > 59 || second > 59) return NOT_RESOLVED;
  if (match[7]) {
    let value = match[7].slice(0, 3);
    while (value.length < 3) value += "0";
    fraction = +value;
  }
  const date = makeUtcDate(year, month, day, hour, minute, second, fraction);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month || date.getUTCDate() !== day) return NOT_RESOLVED;
  if (match[9]) {
    const offsetHour = +match[10];
    const offsetMinute = +(match[11] || 0);
    if (offsetHour > 23 || offsetMinute > 59) return NOT_RESOLVED;
    const offset = (offsetHour * 60 + offsetMinute) * 6e4;
    date.setTime(date.getTime() - (match[9] === "-" ? -offset : offset));
  }
  return date;
}
var timestampTag = defineScalarTag("tag:yaml.org,2002:timestamp", {
  implicit: true,
  implicitFirstChars: [..."0123456789"],
  resolve: resolveYamlTimestamp,
  identify: (object) => object instanceof Date,
  represent: (object) => object.toISOString()
});
var seqTag = defineSequenceTag("tag:yaml.org,2002:seq", {
  create: () => [],
  addItem: (container, item) => {
    container.push(item);
  },
  identify: Array.isArray
});
function isPlainObject(data) {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return false;
  const prototype = Object.getPrototypeOf(data);
  return prototype === null || prototype === Object.prototype;
}
function pick(object, keys) {
  const result = {};
  for (const key of keys) if (object[key] !== void 0) result[key] = object[key];
  return result;
}
var omapTag = defineSequenceTag("tag:yaml.org,2002:omap", {
  create: () => ({
    list: [],
    seen: /* @__PURE__ */ new Set()
  }),
  addItem: (carrier, item) => {
    let key;
    if (item instanceof Map) {
      if (item.size !== 1) return "cannot resolve an ordered map item";
      key = item.keys().next().value;
    } else if (isPlainObject(item)) {
      const itemKeys = Object.keys(item);
      if (itemKeys.length !== 1) return "cannot resolve an ordered map item";
      key = itemKeys[0];
    } else return "cannot resolve an ordered map item";
    if (carrier.seen.has(key)) return "duplicate key in ordered map";
    carrier.seen.add(key);
    carrier.list.push(item);
    return "";
  },
  finalize: (carrier) => carrier.list,
  identify: () => false
});
var pairsTag = defineSequenceTag("tag:yaml.org,2002:pairs", {
  create: () => [],
  addItem: (container, item) => {
    if (item instanceof Map) {
      if (item.size !== 1) return "cannot resolve a pairs item";
      container.push(item.entries().next().value);
      return "";
    }
    if (Object.prototype.toString.call(item) !== "[object Object]") return "cannot resolve a pairs item";
    const object = item;
    const keys = Object.keys(object);
    if (keys.length !== 1) return "cannot resolve a pairs item";
    container.push([keys[0], object[keys[0]]]);
    return "";
  },
  identify: () => false
});
var mapTag = defineMappingTag("tag:yaml.org,2002:map", {
  create: () => ({}),
  identify: isPlainObject,
  represent: (o) => {
    const map = /* @__PURE__ */ new Map();
    for (const key of Object.keys(o)) map.set(key, o[key]);
    return map;
  },
  addPair: (container, key, value) => {
    if (key !== null && typeof key === "object") return "object-based map does not support complex keys";
    const normalizedKey = String(key);
    if (normalizedKey === "__proto__") Object.defineProperty(container, normalizedKey, {
      value,
      enumerable: true,
      configurable: true,
      writable: true
    });
    else container[normalizedKey] = value;
    return "";
  },
  has: (container, key) => {
    if (key !== null && typeof key === "object") return false;
    return Object.prototype.hasOwnProperty.call(container, String(key));
  },
  keys: (container) => Object.keys(container),
  get: (container, key) => {
    const normalizedKey = String(key);
    if (!Object.prototype.hasOwnProperty.call(container, normalizedKey)) return null;
    return container[normalizedKey];
  }
});
var setTag = defineMappingTag("tag:yaml.org,2002:set", {
  create: () => /* @__PURE__ */ new Set(),
  identify: (data) => data instanceof Set,
  represent: (data) => {
    const map = /* @__PURE__ */ new Map();
    for (const key of data) map.set(key, null);
    return map;
  },
  addPair: (container, key, value) => {
    if (value !== null) return "cannot resolve a set item";
    container.add(key);
    return "";
  },
  has: (container, key) => container.has(key),
  keys: (container) => container.keys(),
  get: () => null
});
function createTagDefinitionMap() {
  return {
    scalar: /* @__PURE__ */ Object.create(null),
    sequence: /* @__PURE__ */ Object.create(null),
    mapping: /* @__PURE__ */ Object.create(null)
  };
}
function createTagDefinitionListMap() {
  return {
    scalar: [],
    sequence: [],
    mapping: []
  };
}
function compileTags(tags) {
  const result = [];
  for (const tag of tags) {
    let index = result.length;
    for (let previousIndex = 0; previousIndex < result.length; previousIndex++) {
      const previous = result[previousIndex];
      if (previous.nodeKind === tag.nodeKind && previous.tagName === tag.tagName && previous.matchByTagPrefix === tag.matchByTagPrefix) {
        index = previousIndex;
        break;
      }
    }
    result[index] = tag;
  }
  return result;
}
var Schema = class Schema2 {
  tags;
  /** @internal */
  implicitScalarTags;
  /**
  * Dispatch implicit scalar resolvers by `source.charAt(0)`. Each bucket holds
  * the resolvers that may match that key, in schema order; a key absent from
  * the map uses
  * {@link Schema.implicitScalarAnyFirstChar}
  * (resolvers that declared no first-char constraint, so they apply to any
  * first character).
  */
  implicitScalarByFirstChar;
  implicitScalarAnyFirstChar;
  /**
  * The default scalar tag (`!!str`), resolved once so the composer's fallback
  * for unresolved plain scalars avoids a keyed lookup per scalar.
  *
  * @internal
  */
  defaultScalarTag;
  /**
  * The default container tags (`!!seq` / `!!map`), used by the dumper: when a
  * value is identified by its default tag, the tag is implicit and not
  * printed. Undefined if the schema does not define them (then such values
  * can't be dumped).
  *
  * @internal
  */
  defaultSequenceTag;
  /** @internal */
  defaultMappingTag;
  exact;
  prefix;
  constructor(tags) {
    const compiledTags = compileTags(tags);
    const implicitScalarTags = [];
    const exact = createTagDefinitionMap();
    const prefix = createTagDefinitionListMap();
    for (const tag of compiledTags) {
      if (tag.nodeKind === "scalar" && tag.implicit) {
        if (tag.matchByTagPrefix) throw new Error("Implicit scalar tags cannot match by tag prefix");
        implicitScalarTags.push(tag);
      }
      switch (tag.nodeKind) {
        case "scalar":
          if (tag.matchByTagPrefix) prefix.scalar.push(tag);
          else exact.scalar[tag.tagName] = tag;
          break;
        case "sequence":
          if (tag.matchByTagPrefix) prefix.sequence.push(tag);
          else exact.sequence[tag.tagName] = tag;
          break;
        case "mapping":
          if (tag.matchByTagPrefix) prefix.mapping.push(tag);
          else exact.mapping[tag.tagName] = tag;
      }
    }
    const implicitScalarAnyFirstChar = implicitScalarTags.filter((tag) => tag.implicitFirstChars === null);
    const keys = /* @__PURE__ */ new Set();
    for (const tag of implicitScalarTags) if (tag.implicitFirstChars !== null) for (const key of tag.implicitFirstChars) keys.add(key);
    const implicitScalarByFirstChar = /* @__PURE__ */ new Map();
    for (const key of keys) implicitScalarByFirstChar.set(key, implicitScalarTags.filter((tag) => tag.implicitFirstChars === null || tag.implicitFirstChars.indexOf(key) !== -1));
    const defaultScalarTag = exact.scalar["tag:yaml.org,2002:str"];
    if (!defaultScalarTag) throw new Error("schema does not define the default scalar tag (tag:yaml.org,2002:str)");
    this.tags = compiledTags;
    this.implicitScalarTags = implicitScalarTags;
    this.implicitScalarByFirstChar = implicitScalarByFirstChar;
    this.implicitScalarAnyFirstChar = implicitScalarAnyFirstChar;
    this.defaultScalarTag = defaultScalarTag;
    this.defaultSequenceTag = exact.sequence["tag:yaml.org,2002:seq"];
    this.defaultMappingTag = exact.mapping["tag:yaml.org,2002:map"];
    this.exact = exact;
    this.prefix = prefix;
  }
  /** @internal */
  lookupScalarTag(tagName) {
    const exactTag = this.exact.scalar[tagName];
    if (exactTag) return exactTag;
    for (const tag of this.prefix.scalar) if (tagName.startsWith(tag.tagName)) return tag;
  }
  /** @internal */
  lookupSequenceTag(tagName) {
    const exactTag = this.exact.sequence[tagName];
    if (exactTag) return exactTag;
    for (const tag of this.prefix.sequence) if (tagName.startsWith(tag.tagName)) return tag;
  }
  /** @internal */
  lookupMappingTag(tagName) {
    const exactTag = this.exact.mapping[tagName];
    if (exactTag) return exactTag;
    for (const tag of this.prefix.mapping) if (tagName.startsWith(tag.tagName)) return tag;
  }
  /** @internal */
  resolveImplicitScalarTag(source) {
    const candidates = this.implicitScalarByFirstChar.get(source.charAt(0)) ?? this.implicitScalarAnyFirstChar;
    for (const tag2 of candidates) {
      const value = tag2.resolve(source, false, tag2.tagName);
      if (value !== NOT_RESOLVED) return {
        value,
        tag: tag2
      };
    }
    const tag = this.defaultScalarTag;
    return {
      value: tag.resolve(source, false, tag.tagName),
      tag
    };
  }
  /**
  * Creates a new schema with the specified tags added. If a tag already
  * exists, it is replaced by the specified tag.
  *
  * @example
  *
  * ```javascript
  * import { CORE_SCHEMA, mergeTag, realMapTag } from 'js-yaml'
  *
  * const schema = CORE_SCHEMA.withTags(mergeTag, realMapTag)
  * ```
  */
  withTags(...tags) {
    let flatTags = [];
    for (const tag of tags) flatTags = flatTags.concat(tag);
    return new Schema2([...this.tags, ...flatTags]);
  }
};
var FAILSAFE_SCHEMA = new Schema([
  strTag,
  seqTag,
  mapTag
]);
var JSON_SCHEMA = new Schema([
  ...FAILSAFE_SCHEMA.tags,
  nullJsonTag,
  boolJsonTag,
  intJsonTag,
  floatJsonTag
]);
var CORE_SCHEMA = new Schema([
  ...FAILSAFE_SCHEMA.tags,
  nullCoreTag,
  boolCoreTag,
  intCoreTag,
  floatCoreTag
]);
var YAML11_SCHEMA = new Schema([
  ...FAILSAFE_SCHEMA.tags,
  nullYaml11Tag,
  boolYaml11Tag,
  intYaml11Tag,
  floatYaml11Tag,
  timestampTag,
  mergeTag,
  binaryTag,
  omapTag,
  pairsTag,
  setTag
]);
var DUMP_SCHEMA = YAML11_SCHEMA.withTags({
  ...intYaml11Tag,
  resolve: (source, isExplicit, tagName) => {
    const result = intYaml11Tag.resolve(source, isExplicit, tagName);
    return result === NOT_RESOLVED ? intCoreTag.resolve(source, isExplicit, tagName) : result;
  }
}, {
  ...floatYaml11Tag,
  resolve: (source, isExplicit, tagName) => {
    const result = floatYaml11Tag.resolve(source, isExplicit, tagName);
    return result === NOT_RESOLVED ? floatCoreTag.resolve(source, isExplicit, tagName) : result;
  }
});
var realMapTag = defineMappingTag("tag:yaml.org,2002:map", {
  create: () => /* @__PURE__ */ new Map(),
  addPair: (container, key, value) => {
    container.set(key, value);
    return "";
  },
  has: (container, key) => container.has(key),
  keys: (container) => container.keys(),
  get: (container, key) => container.get(key),
  identify: (data) => data instanceof Map || isPlainObject(data),
  represent: (data) => {
    if (data instanceof Map) return data;
    const map = /* @__PURE__ */ new Map();
    const obj = data;
    for (const key of Object.keys(obj)) map.set(key, obj[key]);
    return map;
  }
});
function normalizeKey(key) {
  if (Array.isArray(key)) {
    const array = Array.prototype.slice.call(key);
    for (let index = 0; index < array.length; index++) {
      if (Array.isArray(array[index])) return null;
      if (typeof array[index] === "object" && Object.prototype.toString.call(array[index]) === "[object Object]") array[index] = "[object Object]";
    }
    return String(array);
  }
  if (typeof key === "object" && Object.prototype.toString.call(key) === "[object Object]") return "[object Object]";
  return String(key);
}
var legacyMapTag = defineMappingTag("tag:yaml.org,2002:map", {
  create: () => ({}),
  identify: isPlainObject,
  represent: (o) => {
    const map = /* @__PURE__ */ new Map();
    for (const key of Object.keys(o)) map.set(key, o[key]);
    return map;
  },
  addPair: (container, key, value) => {
    const normalizedKey = normalizeKey(key);
    if (normalizedKey === null) return "nested arrays are not supported inside keys";
    if (normalizedKey === "__proto__") Object.defineProperty(container, normalizedKey, {
      value,
      enumerable: true,
      configurable: true,
      writable: true
    });
    else container[normalizedKey] = value;
    return "";
  },
  has: (container, key) => {
    const normalizedKey = normalizeKey(key);
    return normalizedKey !== null && Object.prototype.hasOwnProperty.call(container, normalizedKey);
  },
  keys: (container) => Object.keys(container),
  get: (container, key) => {
    const normalizedKey = String(key);
    if (!Object.prototype.hasOwnProperty.call(container, normalizedKey)) return null;
    return container[normalizedKey];
  }
});
var DEFAULT_SNIPPET_OPTIONS = {
  maxLength: 79,
  indent: 1,
  linesBefore: 3,
  linesAfter: 2
};
function getLine(buffer, lineStart, lineEnd, position, maxLineLength) {
  let head = "";
  let tail = "";
  const maxHalfLength = Math.floor(maxLineLength / 2) - 1;
  if (position - lineStart > maxHalfLength) {
    head = " ... ";
    lineStart = position - maxHalfLength + head.length;
  }
  if (lineEnd - position > maxHalfLength) {
    tail = " ...";
    lineEnd = position + maxHalfLength - tail.length;
  }
  return {
    str: head + buffer.slice(lineStart, lineEnd).replace(/\t/g, "\u2192") + tail,
    pos: position - lineStart + head.length
  };
}
function padStart(string, max) {
  return " ".repeat(Math.max(max - string.length, 0)) + string;
}
function makeSnippet(mark, options) {
  if (!mark.buffer) return null;
  const opts = {
    ...DEFAULT_SNIPPET_OPTIONS,
    ...options
  };
  const re = /\r?\n|\r|\0/g;
  const lineStarts = [0];
  const lineEnds = [];
  let match;
  let foundLineNo = -1;
  while (match = re.exec(mark.buffer)) {
    lineEnds.push(match.index);
    lineStarts.push(match.index + match[0].length);
    if (mark.position <= match.index && foundLineNo < 0) foundLineNo = lineStarts.length - 2;
  }
  if (foundLineNo < 0) foundLineNo = lineStarts.length - 1;
  let result = "";
  const lineNoLength = Math.min(mark.line + opts.linesAfter, lineEnds.length).toString().length;
  const maxLineLength = opts.maxLength - (opts.indent + lineNoLength + 3);
  for (let i = 1; i <= opts.linesBefore; i++) {
    if (foundLineNo - i < 0) break;
    const line2 = getLine(mark.buffer, lineStarts[foundLineNo - i], lineEnds[foundLineNo - i], mark.position - (lineStarts[foundLineNo] - lineStarts[foundLineNo - i]), maxLineLength);
    result = `${" ".repeat(opts.indent)}${padStart((mark.line - i + 1).toString(), lineNoLength)} | ${line2.str}
${result}`;
  }
  const line = getLine(mark.buffer, lineStarts[foundLineNo], lineEnds[foundLineNo], mark.position, maxLineLength);
  result += `${" ".repeat(opts.indent)}${padStart((mark.line + 1).toString(), lineNoLength)} | ${line.str}
`;
  result += `${"-".repeat(opts.indent + lineNoLength + 3 + line.pos)}^
`;
  for (let i = 1; i <= opts.linesAfter; i++) {
    if (foundLineNo + i >= lineEnds.length) break;
    const line2 = getLine(mark.buffer, lineStarts[foundLineNo + i], lineEnds[foundLineNo + i], mark.position - (lineStarts[foundLineNo] - lineStarts[foundLineNo + i]), maxLineLength);
    result += `${" ".repeat(opts.indent)}${padStart((mark.line + i + 1).toString(), lineNoLength)} | ${line2.str}
`;
  }
  return result.replace(/\n$/, "");
}
function formatError(exception, compact) {
  let where = "";
  if (!exception.mark) return exception.reason;
  if (exception.mark.name) where += `in "${exception.mark.name}" `;
  where += `(${exception.mark.line + 1}:${exception.mark.column + 1})`;
  if (!compact && exception.mark.snippet) where += `

${exception.mark.snippet}`;
  return `${exception.reason} ${where}`;
}
var YAMLException = class YAMLException2 extends Error {
  reason;
  mark;
  /**
  * Optional `mark` contains source snippet data. Usually, use
  * {@link YAMLException.throwAt} instead of passing it directly.
  */
  constructor(reason, mark) {
    super();
    this.name = "YAMLException";
    this.reason = reason;
    this.mark = mark;
    this.message = formatError(this, false);
    if (Error.captureStackTrace) Error.captureStackTrace(this, this.constructor);
  }
  /**
  * Returns the formatted error, omitting the source snippet in compact mode.
  */
  toString(compact) {
    return `${this.name}: ${formatError(this, compact)}`;
  }
  /**
  * Builds a YAMLException with a source snippet and throws it. `source` is
  * the raw input text; `position` is an offset into it.
  */
  static throwAt(source, position, message, filename = "") {
    let line = 0;
    let lineStart = 0;
    for (let index = 0; index < position; index++) {
      const ch = source.charCodeAt(index);
      if (ch === 10) {
        line++;
        lineStart = index + 1;
      } else if (ch === 13) {
        line++;
        if (source.charCodeAt(index + 1) === 10) index++;
        lineStart = index + 1;
      }
    }
    const mark = {
      name: filename,
      buffer: source,
      position,
      line,
      column: position - lineStart
    };
    mark.snippet = makeSnippet(mark);
    throw new YAMLException2(message, mark);
  }
};
var EVENT_ID = {
  DOCUMENT: 1,
  SEQUENCE: 2,
  MAPPING: 3,
  SCALAR: 4,
  ALIAS: 5,
  POP: 6
};
var SCALAR_STYLE = {
  PLAIN: 1,
  SINGLE_QUOTED: 2,
  DOUBLE_QUOTED: 3,
  LITERAL_BLOCK: 4,
  FOLDED_BLOCK: 5
};
var COLLECTION_STYLE = {
  BLOCK: 1,
  FLOW: 2
};
var CHOMPING_MODE = {
  CLIP: 1,
  STRIP: 2,
  KEEP: 3
};
var NO_RANGE$3 = -1;
function simpleEscapeSequence(c) {
  switch (c) {
    case 48:
      return "\0";
    case 97:
      return "\x07";
    case 98:
      return "\b";
    case 116:
      return "	";
    case 9:
      return "	";
    case 110:
      return "\n";
    case 118:
      return "\v";
    case 102:
      return "\f";
    case 114:
      return "\r";
    case 101:
      return "\x1B";
    case 32:
      return " ";
    case 34:
      return '"';
    case 47:
      return "/";
    case 92:
      return "\\";
    case 78:
      return "\x85";
    case 95:
      return "\xA0";
    case 76:
      return "\u2028";
    case 80:
      return "\u2029";
    default:
      return "";
  }
}
var simpleEscapeCheck = new Array(256);
var simpleEscapeMap = new Array(256);
for (let i = 0; i < 256; i++) {
  simpleEscapeCheck[i] = simpleEscapeSequence(i) ? 1 : 0;
  simpleEscapeMap[i] = simpleEscapeSequence(i);
}
function charFromCodepoint(c) {
  if (c <= 65535) return String.fromCharCode(c);
  return String.fromCharCode((c - 65536 >> 10) + 55296, (c - 65536 & 1023) + 56320);
}
function fromHexCode$1(c) {
  if (c >= 48 && c <= 57) return c - 48;
  return (c | 32) - 97 + 10;
}
function escapedHexLen$1(c) {
  if (c === 120) return 2;
  if (c === 117) return 4;
  return 8;
}
function skipFoldedBreaks(input, position, end) {
  let breaks = 0;
  while (position < end) {
    const ch = input.charCodeAt(position);
    if (ch === 10) {
      breaks++;
      position++;
    } else if (ch === 13) {
      breaks++;
      position++;
      if (input.charCodeAt(position) === 10) position++;
    } else if (ch === 32 || ch === 9) position++;
    else break;
  }
  return {
    position,
    breaks
  };
}
function foldedBreaks(count) {
  if (count === 1) return " ";
  return "\n".repeat(count - 1);
}
function getPlainValue(input, start, end) {
  let result = "";
  let position = start;
  let captureStart = start;
  let captureEnd = start;
  while (position < end) {
    const ch = input.charCodeAt(position);
    if (ch === 10 || ch === 13) {
      result += input.slice(captureStart, captureEnd);
      const fold = skipFoldedBreaks(input, position, end);
      result += foldedBreaks(fold.breaks);
      position = captureStart = captureEnd = fold.position;
    } else {
      position++;
      if (ch !== 32 && ch !== 9) captureEnd = position;
    }
  }
  return result + input.slice(captureStart, captureEnd);
}
function getSingleQuotedValue(input, start, end) {
  let result = "";
  let position = start;
  let captureStart = start;
  let captureEnd = start;
  while (position < end) {
    const ch = input.charCodeAt(position);
    if (ch === 39) {
      result += input.slice(captureStart, position) + "'";
      position += 2;
      captureStart = captureEnd = position;
    } else if (ch === 10 || ch === 13) {
      result += input.slice(captureStart, captureEnd);
      const fold = skipFoldedBreaks(input, position, end);
      result += foldedBreaks(fold.breaks);
      position = captureStart = captureEnd = fold.position;
    } else {
      position++;
      if (ch !== 32 && ch !== 9) captureEnd = position;
    }
  }
  return result + input.slice(captureStart, end);
}
function getDoubleQuotedValue(input, start, end) {
  let result = "";
  let position = start;
  let captureStart = start;
  let captureEnd = start;
  while (position < end) {
    const ch = input.charCodeAt(position);
    if (ch === 92) {
      result += input.slice(captureStart, position);
      position++;
      const escaped = input.charCodeAt(position);
      if (escaped === 10 || escaped === 13) position = skipFoldedBreaks(input, position, end).position;
      else if (escaped < 256 && simpleEscapeCheck[escaped]) {
        result += simpleEscapeMap[escaped];
        position++;
      } else {
        let hexLength = escapedHexLen$1(escaped);
        let hexResult = 0;
        for (; hexLength > 0; hexLength--) {
          position++;
          const digit = fromHexCode$1(input.charCodeAt(position));
          hexResult = (hexResult << 4) + digit;
        }
        result += charFromCodepoint(hexResult);
        position++;
      }
      captureStart = captureEnd = position;
    } else if (ch === 10 || ch === 13) {
      result += input.slice(captureStart, captureEnd);
      const fold = skipFoldedBreaks(input, position, end);
      result += foldedBreaks(fold.breaks);
      position = captureStart = captureEnd = fold.position;
    } else {
      position++;
      if (ch !== 32 && ch !== 9) captureEnd = position;
    }
  }
  return result + input.slice(captureStart, end);
}
function getBlockValue(input, start, end, indent, chomping, folded) {
  const textIndent = indent < 0 ? 0 : indent;
  const region = input.slice(start, end).replace(/\r\n?/g, "\n");
  const lines = region === "" ? [] : (region.endsWith("\n") ? region.slice(0, -1) : region).split("\n");
  let result = "";
  let didReadContent = false;
  let emptyLines = 0;
  let atMoreIndented = false;
  for (const line of lines) {
    let column = 0;
    while (column < textIndent && line.charCodeAt(column) === 32) column++;
    if (indent < 0 || column >= line.length) {
      emptyLines++;
      continue;
    }
    const content = line.slice(textIndent);
    const first = content.charCodeAt(0);
    if (folded) {
      if (first === 32 || first === 9) {
        atMoreIndented = true;
        result += "\n".repeat(didReadContent ? 1 + emptyLines : emptyLines);
      } else if (atMoreIndented) {
        atMoreIndented = false;
        result += "\n".repeat(emptyLines + 1);
      } else if (emptyLines === 0) {
        if (didReadContent) result += " ";
      } else result += "\n".repeat(emptyLines);
    } else result += "\n".repeat(didReadContent ? 1 + emptyLines : emptyLines);
    result += content;
    didReadContent = true;
    emptyLines = 0;
  }
  if (chomping === CHOMPING_MODE.KEEP) result += "\n".repeat(didReadContent ? 1 + emptyLines : emptyLines);
  else if (chomping !== CHOMPING_MODE.STRIP) {
    if (didReadContent) result += "\n";
  }
  return result;
}
function getScalarValue(input, scalar) {
  if (scalar.valueStart === NO_RANGE$3) return "";
  const { valueStart, valueEnd } = scalar;
  if (scalar.fast) return input.slice(valueStart, valueEnd);
  switch (scalar.style) {
    case SCALAR_STYLE.SINGLE_QUOTED:
      return getSingleQuotedValue(input, valueStart, valueEnd);
    case SCALAR_STYLE.DOUBLE_QUOTED:
      return getDoubleQuotedValue(input, valueStart, valueEnd);
    case SCALAR_STYLE.LITERAL_BLOCK:
      return getBlockValue(input, valueStart, valueEnd, scalar.indent, scalar.chomping, false);
    case SCALAR_STYLE.FOLDED_BLOCK:
      return getBlockValue(input, valueStart, valueEnd, scalar.indent, scalar.chomping, true);
    default:
      return getPlainValue(input, valueStart, valueEnd);
  }
}
var DEFAULT_TAG_HANDLERS = Object.assign(/* @__PURE__ */ Object.create(null), {
  "!": "!",
  "!!": "tag:yaml.org,2002:"
});
var TAG_SUFFIX_CHARS = "-#;/?:@&=+$_.~*'()";
var TAG_URI_CHARS = TAG_SUFFIX_CHARS + "!,[]";
function tagPercentDecode(source) {
  let result = "";
  let index = 0;
  while (index < source.length) {
    if (source.charCodeAt(index) !== 37) {
      result += source[index++];
      continue;
    }
    let ch = parseInt(source.slice(index + 1, index + 3), 16);
    index += 3;
    if (ch >= 192) {
      let remaining = ch < 224 ? 1 : ch < 240 ? 2 : 3;
      ch &= (1 << 6 - remaining) - 1;
      while (remaining-- > 0) {
        ch = ch << 6 | parseInt(source.slice(index + 1, index + 3), 16) & 63;
        index += 3;
      }
    }
    if (ch < 65536) result += String.fromCharCode(ch);
    else {
      ch -= 65536;
      result += String.fromCharCode(55296 | ch >> 10, 56320 | ch & 1023);
    }
  }
  return result;
}
function tagNameFull(rawTag, tagHandlers) {
  if (rawTag.startsWith("!<") && rawTag.endsWith(">")) return tagPercentDecode(rawTag.slice(2, -1));
  const handleEnd = rawTag.indexOf("!", 1);
  const handle = handleEnd === -1 ? "!" : rawTag.slice(0, handleEnd + 1);
  return tagPercentDecode(tagHandlers?.[handle] ?? DEFAULT_TAG_HANDLERS[handle] ?? handle) + tagPercentDecode(rawTag.slice(handle.length));
}
var NO_RANGE$2 = -1;
var MERGE_TAG_NAME = "tag:yaml.org,2002:merge";
var DEFAULT_CONSTRUCTOR_OPTIONS = {
  filename: "",
  schema: CORE_SCHEMA,
  json: false,
  maxTotalMergeKeys: 1e4,
  maxAliases: -1
};
function eventPosition$1(event) {
  if ("tagStart" in event && event.tagStart !== NO_RANGE$2) return event.tagStart;
  if ("anchorStart" in event && event.anchorStart !== NO_RANGE$2) return event.anchorStart;
  if ("valueStart" in event && event.valueStart !== NO_RANGE$2) return event.valueStart;
  if ("start" in event) return event.start;
  return 0;
}
function throwError$1(state, message) {
  YAMLException.throwAt(state.source, state.position, message, state.filename);
}
function finalizeCollection(state, position, tag, carrier) {
  try {
    return tag.finalize(carrier);
  } catch (error) {
    if (error instanceof YAMLException) throw error;
    YAMLException.throwAt(state.source, position, error instanceof Error ? error.message : String(error), state.filename);
  }
}
function constructScalar(state, event) {
  const source = getScalarValue(state.source, event);
  const rawTag = event.tagStart === NO_RANGE$2 ? "" : state.source.slice(event.tagStart, event.tagEnd);
  const strTag2 = state.schema.defaultScalarTag;
  if (rawTag !== "") {
    if (rawTag === "!") return {
      value: source,
      tag: strTag2
    };
    const tagName = tagNameFull(rawTag, state.tagHandlers);
    const scalarTag = state.schema.lookupScalarTag(tagName);
    if (scalarTag) {
      const result = scalarTag.resolve(source, true, tagName);
      if (result === NOT_RESOLVED) throwError$1(state, `cannot resolve a node with !<${tagName}> explicit tag`);
      return {
        value: result,
        tag: scalarTag
      };
    }
    const collectionTagDef = state.schema.lookupMappingTag(tagName) ?? state.schema.lookupSequenceTag(tagName);
    if (collectionTagDef) {
      if (source !== "") throwError$1(state, `cannot resolve a node with !<${tagName}> explicit tag`);
      const carrier = collectionTagDef.create(tagName);
      return {
        value: collectionTagDef.carrierIsResult ? carrier : finalizeCollection(state, state.position, collectionTagDef, carrier),
        tag: collectionTagDef
      };
    }
    throwError$1(state, `unknown scalar tag !<${tagName}>`);
  }
  if (event.style === SCALAR_STYLE.PLAIN) return state.schema.resolveImplicitScalarTag(source);
  return {
    value: strTag2.resolve(source, false, strTag2.tagName),
    tag: strTag2
  };
}
function collectionTagName(state, event, defaultTagName) {
  const rawTag = event.tagStart === NO_RANGE$2 ? "" : state.source.slice(event.tagStart, event.tagEnd);
  return rawTag === "" || rawTag === "!" ? defaultTagName : tagNameFull(rawTag, state.tagHandlers);
}
function isMappingTag(tag) {
  return tag.nodeKind === "mapping";
}
function chargeMergeWork(state) {
  state.totalMergeKeys++;
  if (state.maxTotalMergeKeys !== -1 && state.totalMergeKeys > state.maxTotalMergeKeys) throwError$1(state, `merge keys exceeded maxTotalMergeKeys (${state.maxTotalMergeKeys})`);
}
function mergeKeys(state, frame, source, sourceTag) {
  chargeMergeWork(state);
  for (const sourceKey of sourceTag.keys(source)) {
    chargeMergeWork(state);
    if (frame.tag.has(frame.value, sourceKey)) continue;
    const err = frame.tag.addPair(frame.value, sourceKey, sourceTag.get(source, sourceKey));
    if (err) throwError$1(state, err);
    frame.overridable ??= /* @__PURE__ */ new Set();
    frame.overridable.add(sourceKey);
  }
}
function mergeSource(state, frame, source, sourceTag) {
  state.position = frame.keyPosition;
  if (isMappingTag(sourceTag)) mergeKeys(state, frame, source, sourceTag);
  else if (sourceTag.nodeKind === "sequence" && Array.isArray(source)) {
    if (source.length > 100) throwError$1(state, "abnormal merge sequence size");
    for (const element of source) {
      const elementTag = state.nodeTags.get(element);
      if (!elementTag) throwError$1(state, "cannot merge mappings; the provided source object is unacceptable");
      mergeKeys(state, frame, element, elementTag);
    }
  } else throwError$1(state, "cannot merge mappings; the provided source object is unacceptable");
}
function addMappingValue(state, frame, key, value, tag) {
  state.position = frame.keyPosition;
  if (frame.keyIsMerge) {
    mergeSource(state, frame, value, tag);
    return;
  }
  if (!state.json && frame.tag.has(frame.value, key) && !frame.overridable?.has(key)) throwError$1(state, "duplicated mapping key");
  const err = frame.tag.addPair(frame.value, key, value);
  if (err) throwError$1(state, err);
  frame.overridable?.delete(key);
}
function addValue(state, value, tag) {
  const frame = state.frames[state.frames.length - 1];
  if (frame.kind === "document") {
    frame.value = value;
    frame.hasValue = true;
  } else if (frame.kind === "sequence") {
    if (isMappingTag(tag)) state.nodeTags.set(value, tag);
    const err = frame.tag.addItem(frame.value, value, frame.index++);
    if (err) throwError$1(state, err);
  } else if (frame.hasKey) {
    const key = frame.key;
    frame.key = void 0;
    frame.hasKey = false;
    addMappingValue(state, frame, key, value, tag);
  } else {
    frame.key = value;
    frame.keyPosition = state.position;
    frame.hasKey = true;
    frame.keyIsMerge = tag.tagName === MERGE_TAG_NAME;
  }
}
function storeAnchor(state, event, value, tag, isValueFinal) {
  if (event.anchorStart !== NO_RANGE$2) {
    const anchor = {
      value,
      tag,
      isValueFinal
    };
    state.anchors.set(state.source.slice(event.anchorStart, event.anchorEnd), anchor);
    return anchor;
  }
  return null;
}
function constructFromEvents(events, options) {
  const state = {
    ...DEFAULT_CONSTRUCTOR_OPTIONS,
    ...options,
    events,
    documents: [],
    eventIndex: 0,
    position: 0,
    frames: [],
    anchors: /* @__PURE__ */ new Map(),
    nodeTags: /* @__PURE__ */ new Map(),
    tagHandlers: /* @__PURE__ */ Object.create(null),
    totalMergeKeys: 0,
    aliasCount: 0
  };
  while (state.eventIndex < state.events.length) {
    const event = state.events[state.eventIndex++];
    state.position = eventPosition$1(event);
    switch (event.type) {
      case EVENT_ID.DOCUMENT:
        state.anchors = /* @__PURE__ */ new Map();
        state.nodeTags = /* @__PURE__ */ new Map();
        state.aliasCount = 0;
        state.tagHandlers = /* @__PURE__ */ Object.create(null);
        for (const directive of event.directives) if (directive.kind === "tag") state.tagHandlers[directive.handle] = directive.prefix;
        state.frames.push({
          kind: "document",
          position: state.position,
          value: void 0,
          hasValue: false
        });
        break;
      case EVENT_ID.SCALAR: {
        const { value, tag } = constructScalar(state, event);
        storeAnchor(state, event, value, tag, true);
        addValue(state, value, tag);
        break;
      }
      case EVENT_ID.SEQUENCE: {
        const tagName = collectionTagName(state, event, "tag:yaml.org,2002:seq");
        const tag = state.schema.lookupSequenceTag(tagName);
        if (!tag) throwError$1(state, `unknown sequence tag !<${tagName}>`);
        const value = tag.create(tagName);
        const anchor = storeAnchor(state, event, value, tag, tag.carrierIsResult);
        state.frames.push({
          kind: "sequence",
          position: state.position,
          value,
          tag,
          anchor,
          index: 0
        });
        break;
      }
      case EVENT_ID.MAPPING: {
        const tagName = collectionTagName(state, event, "tag:yaml.org,2002:map");
        const tag = state.schema.lookupMappingTag(tagName);
        if (!tag) throwError$1(state, `unknown mapping tag !<${tagName}>`);
        const value = tag.create(tagName);
        const anchor = storeAnchor(state, event, value, tag, tag.carrierIsResult);
        state.frames.push({
          kind: "mapping",
          position: state.position,
          value,
          tag,
          anchor,
          key: void 0,
          keyPosition: state.position,
          hasKey: false,
          keyIsMerge: false,
          overridable: null
        });
        break;
      }
      case EVENT_ID.ALIAS: {
        if (state.maxAliases !== -1 && ++state.aliasCount > state.maxAliases) throwError$1(state, `aliases exceeded maxAliases (${state.maxAliases})`);
        const name = state.source.slice(event.anchorStart, event.anchorEnd);
        const anchor = state.anchors.get(name);
        if (!anchor) throwError$1(state, `unidentified alias "${name}"`);
        if (!anchor.isValueFinal) throwError$1(state, `recursive alias "${name}" is not supported for tag ${anchor.tag.tagName} because it uses finalize()`);
        addValue(state, anchor.value, anchor.tag);
        break;
      }
      case EVENT_ID.POP: {
        const frame = state.frames.pop();
        if (frame.kind === "mapping" && frame.hasKey) {
          state.position = frame.keyPosition;
          throwError$1(state, "incomplete mapping pair in event stream");
        }
        if (frame.kind === "document") state.documents.push(frame.value);
        else {
          const value = frame.tag.carrierIsResult ? frame.value : finalizeCollection(state, frame.position, frame.tag, frame.value);
          if (frame.anchor) {
            frame.anchor.value = value;
            frame.anchor.isValueFinal = true;
          }
          addValue(state, value, frame.tag);
        }
        break;
      }
    }
  }
  return state.documents;
}
var NO_RANGE$1 = -1;
var HAS_OWN = Object.prototype.hasOwnProperty;
var CONTEXT_FLOW_IN = 1;
var CONTEXT_FLOW_OUT = 2;
var CONTEXT_BLOCK_IN = 3;
var CONTEXT_BLOCK_OUT = 4;
var PATTERN_NON_PRINTABLE = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:[^\uD800-\uDBFF]|^)[\uDC00-\uDFFF]/;
var PATTERN_FLOW_INDICATORS = /[,\[\]{}]/;
var PATTERN_TAG_HANDLE = /^(?:!|!!|![0-9A-Za-z-]+!)$/;
var NS_URI_CHAR = String.raw`(?:%[0-9A-Fa-f]{2}|[0-9A-Za-z\-#;/?:@&=+$,_.!~*'()\[\]])`;
var NS_TAG_CHAR = String.raw`(?:%[0-9A-Fa-f]{2}|[0-9A-Za-z\-#;/?:@&=+$.~*'()_])`;
var PATTERN_TAG_URI = new RegExp(`^(?:${NS_URI_CHAR})*$`);
var PATTERN_TAG_SUFFIX = new RegExp(`^(?:${NS_TAG_CHAR})+$`);
var PATTERN_TAG_PREFIX = new RegExp(`^(?:!(?:${NS_URI_CHAR})*|${NS_TAG_CHAR}(?:${NS_URI_CHAR})*)$`);
var DEFAULT_PARSER_OPTIONS = {
  filename: "",
  maxDepth: 100
};
function addDocumentEvent(state, explicitStart, explicitEnd) {
  state.events.push({
    type: EVENT_ID.DOCUMENT,
    explicitStart,
    explicitEnd,
    directives: state.directives
  });
}
function addSequenceEvent(state, start, anchorStart, anchorEnd, tagStart, tagEnd, style) {
  state.events.push({
    type: EVENT_ID.SEQUENCE,
    start,
    anchorStart,
    anchorEnd,
    tagStart,
    tagEnd,
    style
  });
}
function addMappingEvent(state, start, anchorStart, anchorEnd, tagStart, tagEnd, style) {
  state.events.push({
    type: EVENT_ID.MAPPING,
    start,
    anchorStart,
    anchorEnd,
    tagStart,
    tagEnd,
    style
  });
}
function insertFlowPairMappingEvent(state, snapshot) {
  state.events.splice(snapshot.eventsLength, 0, {
    type: EVENT_ID.MAPPING,
    start: snapshot.position,
    anchorStart: NO_RANGE$1,
    anchorEnd: NO_RANGE$1,
    tagStart: NO_RANGE$1,
    tagEnd: NO_RANGE$1,
    style: COLLECTION_STYLE.FLOW
  });
}
function addScalarEvent(state, valueStart, valueEnd, anchorStart, anchorEnd, tagStart, tagEnd, style, chomping = CHOMPING_MODE.CLIP, indent = -1, fast = false) {
  state.events.push({
    type: EVENT_ID.SCALAR,
    valueStart,
    valueEnd,
    anchorStart,
    anchorEnd,
    tagStart,
    tagEnd,
    style,
    chomping,
    indent,
    fast
  });
}
function addAliasEvent(state, anchorStart, anchorEnd) {
  state.events.push({
    type: EVENT_ID.ALIAS,
    anchorStart,
    anchorEnd
  });
}
function addPopEvent(state) {
  state.events.push({ type: EVENT_ID.POP });
}
function addEmptyScalarEvent(state) {
  addScalarEvent(state, NO_RANGE$1, NO_RANGE$1, NO_RANGE$1, NO_RANGE$1, NO_RANGE$1, NO_RANGE$1, SCALAR_STYLE.PLAIN);
}
function emptyProperties() {
  return {
    anchorStart: NO_RANGE$1,
    anchorEnd: NO_RANGE$1,
    tagStart: NO_RANGE$1,
    tagEnd: NO_RANGE$1
  };
}
function snapshotState(state) {
  return {
    position: state.position,
    line: state.line,
    lineStart: state.lineStart,
    lineIndent: state.lineIndent,
    firstTabInLine: state.firstTabInLine,
    eventsLength: state.events.length
  };
}
function restoreState(state, snapshot) {
  state.position = snapshot.position;
  state.line = snapshot.line;
  state.lineStart = snapshot.lineStart;
  state.lineIndent = snapshot.lineIndent;
  state.firstTabInLine = snapshot.firstTabInLine;
  state.events.length = snapshot.eventsLength;
}
function throwError(state, message) {
  YAMLException.throwAt(state.input.slice(0, state.length), state.position, message, state.filename);
}
function isEol(c) {
  return c === 10 || c === 13;
}
function isWhiteSpace(c) {
  return c === 9 || c === 32;
}
function isWsOrEol(c) {
  return isWhiteSpace(c) || isEol(c);
}
function isWsOrEolOrEnd(c) {
  return c === 0 || isWsOrEol(c);
}
function isFlowIndicator(c) {
  return c === 44 || c === 91 || c === 93 || c === 123 || c === 125;
}
function fromDecimalCode(c) {
  return c >= 48 && c <= 57 ? c - 48 : -1;
}
function fromHexCode(c) {
  if (c >= 48 && c <= 57) return c - 48;
  const lc = c | 32;
  if (lc >= 97 && lc <= 102) return lc - 97 + 10;
  return -1;
}
function escapedHexLen(c) {
  if (c === 120) return 2;
  if (c === 117) return 4;
  if (c === 85) return 8;
  return 0;
}
function isSimpleEscape(c) {
  return c === 48 || c === 97 || c === 98 || c === 116 || c === 9 || c === 110 || c === 118 || c === 102 || c === 114 || c === 101 || c === 32 || c === 34 || c === 47 || c === 92 || c === 78 || c === 95 || c === 76 || c === 80;
}
function consumeLineBreak(state) {
  if (state.input.charCodeAt(state.position) === 10) state.position++;
  else {
    state.position++;
    if (state.input.charCodeAt(state.position) === 10) state.position++;
  }
  state.line++;
  state.lineStart = state.position;
  state.lineIndent = 0;
  state.firstTabInLine = -1;
}
function skipSeparationSpace(state, allowComments) {
  let lineBreaks = 0;
  let ch = state.input.charCodeAt(state.position);
  let hasSeparation = state.position === state.lineStart || isWsOrEol(state.input.charCodeAt(state.position - 1));
  while (ch !== 0) {
    while (isWhiteSpace(ch)) {
      hasSeparation = true;
      if (ch === 9 && state.firstTabInLine === -1) state.firstTabInLine = state.position;
      ch = state.input.charCodeAt(++state.position);
    }
    if (allowComments && hasSeparation && ch === 35) do
      ch = state.input.charCodeAt(++state.position);
    while (!isEol(ch) && ch !== 0);
    if (!isEol(ch)) break;
    consumeLineBreak(state);
    lineBreaks++;
    hasSeparation = true;
    ch = state.input.charCodeAt(state.position);
    while (ch === 32) {
      state.lineIndent++;
      ch = state.input.charCodeAt(++state.position);
    }
  }
  return lineBreaks;
}
function testDocumentSeparator(state, position = state.position) {
  const ch = state.input.charCodeAt(position);
  if ((ch === 45 || ch === 46) && ch === state.input.charCodeAt(position + 1) && ch === state.input.charCodeAt(position + 2)) {
    const following = state.input.charCodeAt(position + 3);
    return following === 0 || isWsOrEol(following);
  }
  return false;
}
function skipByteOrderMark(state) {
  if (state.position === state.lineStart && state.input.charCodeAt(state.position) === 65279) {
    state.position++;
    state.lineStart = state.position;
  }
}
function testDocumentBoundary(state) {
  if (state.position !== state.lineStart) return false;
  if (testDocumentSeparator(state)) return true;
  if (state.input.charCodeAt(state.position) !== 65279) return false;
  const snapshot = snapshotState(state);
  skipByteOrderMark(state);
  skipSeparationSpace(state, true);
  const ch = state.input.charCodeAt(state.position);
  const result = state.position === state.lineStart && (ch === 37 || ch === 45 && testDocumentSeparator(state));
  restoreState(state, snapshot);
  return result;
}
function skipUntilLineEnd(state) {
  let ch = state.input.charCodeAt(state.position);
  while (ch !== 0 && !isEol(ch)) ch = state.input.charCodeAt(++state.position);
}
function checkPrintable(state, start, end) {
  const match = PATTERN_NON_PRINTABLE.exec(state.input.slice(start, end));
  if (match !== null) {
    state.position = start + match.index + match[0].length - 1;
    throwError(state, "the stream contains non-printable characters");
  }
}
function readTagProperty(state, props, inFlow) {
  if (state.input.charCodeAt(state.position) !== 33) return false;
  if (props.tagStart !== NO_RANGE$1) throwError(state, "duplication of a tag property");
  const start = state.position;
  let isVerbatim = false;
  let isNamed = false;
  let tagHandle = "!";
  let ch = state.input.charCodeAt(++state.position);
  if (ch === 60) {
    isVerbatim = true;
    ch = state.input.charCodeAt(++state.position);
  } else if (ch === 33) {
    isNamed = true;
    tagHandle = "!!";
    ch = state.input.charCodeAt(++state.position);
  }
  let suffixStart = state.position;
  let tagName;
  if (isVerbatim) {
    while (ch !== 0 && ch !== 62) ch = state.input.charCodeAt(++state.position);
    if (ch !== 62) throwError(state, "unexpected end of the stream within a verbatim tag");
    tagName = state.input.slice(suffixStart, state.position);
    state.position++;
  } else {
    while (ch !== 0 && !isWsOrEol(ch) && !(inFlow && isFlowIndicator(ch))) {
      if (ch === 33) {
        if (!isNamed) {
          tagHandle = state.input.slice(suffixStart - 1, state.position + 1);
          if (!PATTERN_TAG_HANDLE.test(tagHandle)) throwError(state, "named tag handle cannot contain such characters");
          isNamed = true;
          suffixStart = state.position + 1;
        } else throwError(state, "tag suffix cannot contain exclamation marks");
      }
      ch = state.input.charCodeAt(++state.position);
    }
    tagName = state.input.slice(suffixStart, state.position);
    if (PATTERN_FLOW_INDICATORS.test(tagName)) throwError(state, "tag suffix cannot contain flow indicator characters");
  }
  if (tagName && !(isVerbatim ? PATTERN_TAG_URI.test(tagName) : PATTERN_TAG_SUFFIX.test(tagName))) throwError(state, `tag name cannot contain such characters: ${tagName}`);
  if (!isVerbatim && tagHandle !== "!" && tagHandle !== "!!" && !HAS_OWN.call(state.tagHandlers, tagHandle)) throwError(state, `undeclared tag handle "${tagHandle}"`);
  props.tagStart = start;
  props.tagEnd = state.position;
  return true;
}
function readAnchorProperty(state, props) {
  if (state.input.charCodeAt(state.position) !== 38) return false;
  if (props.anchorStart !== NO_RANGE$1) throwError(state, "duplication of an anchor property");
  state.position++;
  const start = state.position;
  while (state.input.charCodeAt(state.position) !== 0 && !isWsOrEol(state.input.charCodeAt(state.position)) && !isFlowIndicator(state.input.charCodeAt(state.position))) state.position++;
  if (state.position === start) throwError(state, "name of an anchor node must contain at least one character");
  props.anchorStart = start;
  props.anchorEnd = state.position;
  return true;
}
function readAlias(state, props) {
  if (state.input.charCodeAt(state.position) !== 42) return false;
  if (props.anchorStart !== NO_RANGE$1 || props.tagStart !== NO_RANGE$1) throwError(state, "alias node should not have any properties");
  state.position++;
  const start = state.position;
  while (state.input.charCodeAt(state.position) !== 0 && !isWsOrEol(state.input.charCodeAt(state.position)) && !isFlowIndicator(state.input.charCodeAt(state.position))) state.position++;
  if (state.position === start) throwError(state, "name of an alias node must contain at least one character");
  addAliasEvent(state, start, state.position);
  return true;
}
function readFlowScalarBreak(state, nodeIndent) {
  skipSeparationSpace(state, false);
  if (state.lineIndent < nodeIndent) throwError(state, "deficient indentation");
}
function readSingleQuotedScalar(state, nodeIndent, props) {
  if (state.input.charCodeAt(state.position) !== 39) return false;
  state.position++;
  const start = state.position;
  let simple = true;
  while (state.input.charCodeAt(state.position) !== 0) {
    const ch = state.input.charCodeAt(state.position);
    if (ch === 39) {
      if (state.input.charCodeAt(state.position + 1) === 39) {
        simple = false;
        state.position += 2;
        continue;
      }
      const end = state.position;
      state.position++;
      addScalarEvent(state, start, end, props.anchorStart, props.anchorEnd, props.tagStart, props.tagEnd, SCALAR_STYLE.SINGLE_QUOTED, CHOMPING_MODE.CLIP, -1, simple);
      return true;
    }
    if (isEol(ch)) {
      simple = false;
      readFlowScalarBreak(state, nodeIndent);
    } else if (state.position === state.lineStart && testDocumentSeparator(state)) throwError(state, "unexpected end of the document within a single quoted scalar");
    else if (ch !== 9 && ch < 32) throwError(state, "expected valid JSON character");
    else state.position++;
  }
  throwError(state, "unexpected end of the stream within a single quoted scalar");
}
function readDoubleQuotedScalar(state, nodeIndent, props) {
  if (state.input.charCodeAt(state.position) !== 34) return false;
  state.position++;
  const start = state.position;
  let simple = true;
  while (state.input.charCodeAt(state.position) !== 0) {
    const ch = state.input.charCodeAt(state.position);
    if (ch === 34) {
      const end = state.position;
      state.position++;
      addScalarEvent(state, start, end, props.anchorStart, props.anchorEnd, props.tagStart, props.tagEnd, SCALAR_STYLE.DOUBLE_QUOTED, CHOMPING_MODE.CLIP, -1, simple);
      return true;
    }
    if (ch === 92) {
      simple = false;
      const escaped = state.input.charCodeAt(++state.position);
      if (isEol(escaped)) readFlowScalarBreak(state, nodeIndent);
      else if (isSimpleEscape(escaped)) state.position++;
      else {
        let hexLength = escapedHexLen(escaped);
        if (hexLength === 0) throwError(state, "unknown escape sequence");
        while (hexLength-- > 0) {
          state.position++;
          if (fromHexCode(state.input.charCodeAt(state.position)) < 0) throwError(state, "expected hexadecimal character");
        }
        state.position++;
      }
    } else if (isEol(ch)) {
      simple = false;
      readFlowScalarBreak(state, nodeIndent);
    } else if (state.position === state.lineStart && testDocumentSeparator(state)) throwError(state, "unexpected end of the document within a double quoted scalar");
    else if (ch !== 9 && ch < 32) throwError(state, "expected valid JSON character");
    else state.position++;
  }
  throwError(state, "unexpected end of the stream within a double quoted scalar");
}
function readBlockScalar(state, parentIndent, props) {
  const ch = state.input.charCodeAt(state.position);
  let chomping = CHOMPING_MODE.CLIP;
  let indent = -1;
  let detectedIndent = false;
  if (ch !== 124 && ch !== 62) return false;
  const style = ch === 124 ? SCALAR_STYLE.LITERAL_BLOCK : SCALAR_STYLE.FOLDED_BLOCK;
  state.position++;
  while (state.input.charCodeAt(state.position) !== 0) {
    const current = state.input.charCodeAt(state.position);
    const digit = fromDecimalCode(current);
    if (current === 43 || current === 45) {
      if (chomping !== CHOMPING_MODE.CLIP) throwError(state, "repeat of a chomping mode identifier");
      chomping = current === 43 ? CHOMPING_MODE.KEEP : CHOMPING_MODE.STRIP;
      state.position++;
    } else if (digit >= 0) {
      if (digit === 0) throwError(state, "bad explicit indentation width of a block scalar; it cannot be less than one");
      if (detectedIndent) throwError(state, "repeat of an indentation width identifier");
      indent = parentIndent + digit - 1;
      detectedIndent = true;
      state.position++;
    } else break;
  }
  let hadWhitespace = false;
  while (isWhiteSpace(state.input.charCodeAt(state.position))) {
    hadWhitespace = true;
    state.position++;
  }
  if (hadWhitespace && state.input.charCodeAt(state.position) === 35) skipUntilLineEnd(state);
  if (isEol(state.input.charCodeAt(state.position))) consumeLineBreak(state);
  else if (state.input.charCodeAt(state.position) !== 0) throwError(state, "a line break is expected");
  let contentIndent = detectedIndent ? indent : -1;
  let maxLeadingIndent = 0;
  const valueStart = state.position;
  let valueEnd = state.position;
  while (state.input.charCodeAt(state.position) !== 0) {
    const linePosition = state.position;
    let column = 0;
    while (state.input.charCodeAt(linePosition + column) === 32) column++;
    const first = state.input.charCodeAt(linePosition + column);
    if (first === 0) {
      if (contentIndent >= 0) {
        if (column > contentIndent) valueEnd = linePosition + column;
      } else if (column > 0) valueEnd = linePosition + column;
      break;
    }
    if (testDocumentBoundary(state)) break;
    if (!detectedIndent && contentIndent === -1 && isEol(first)) maxLeadingIndent = Math.max(maxLeadingIndent, column);
    if (!detectedIndent && contentIndent === -1 && !isEol(first)) {
      if (first === 9 && column < parentIndent) {
        state.position = linePosition + column;
        throwError(state, "tab characters must not be used in indentation");
      }
      if (column >= parentIndent && column < maxLeadingIndent) {
        state.position = linePosition + column;
        throwError(state, "bad indentation of a mapping entry");
      }
    }
    if (contentIndent === -1 && first !== 0 && !isEol(first) && column < parentIndent) {
      state.lineIndent = column;
      state.position = linePosition + column;
      break;
    }
    if (!detectedIndent && first !== 0 && !isEol(first) && contentIndent === -1) contentIndent = column;
    const requiredIndent = contentIndent === -1 ? parentIndent + 1 : contentIndent;
    if (first !== 0 && !isEol(first) && column < requiredIndent) {
      state.lineIndent = column;
      state.position = linePosition + column;
      break;
    }
    skipUntilLineEnd(state);
    valueEnd = state.position;
    if (isEol(state.input.charCodeAt(state.position))) {
      consumeLineBreak(state);
      valueEnd = state.position;
    }
  }
  checkPrintable(state, valueStart, valueEnd);
  addScalarEvent(state, valueStart, valueEnd, props.anchorStart, props.anchorEnd, props.tagStart, props.tagEnd, style, chomping, contentIndent);
  return true;
}
function canStartPlainScalar(state, nodeContext) {
  const ch = state.input.charCodeAt(state.position);
  const inFlow = nodeContext === CONTEXT_FLOW_IN;
  if (ch === 0 || isWsOrEol(ch) || ch === 35 || ch === 38 || ch === 42 || ch === 33 || ch === 124 || ch === 62 || ch === 39 || ch === 34 || ch === 37 || ch === 64 || ch === 96 || isFlowIndicator(ch)) return false;
  if (ch === 63 || ch === 45) {
    const following = state.input.charCodeAt(state.position + 1);
    if (isWsOrEolOrEnd(following) || inFlow && isFlowIndicator(following)) return false;
  }
  return true;
}
function readPlainScalar(state, nodeIndent, nodeContext, props) {
  if (!canStartPlainScalar(state, nodeContext)) return false;
  const start = state.position;
  let end = state.position;
  let ch = state.input.charCodeAt(state.position);
  const inFlow = nodeContext === CONTEXT_FLOW_IN;
  let multiline = false;
  while (ch !== 0) {
    if (testDocumentBoundary(state)) break;
    if (ch === 58) {
      const following = state.input.charCodeAt(state.position + 1);
      if (isWsOrEolOrEnd(following) || inFlow && isFlowIndicator(following)) break;
    } else if (ch === 35) {
      if (isWsOrEol(state.input.charCodeAt(state.position - 1))) break;
    } else if (inFlow && isFlowIndicator(ch)) break;
    else if (isEol(ch)) {
      const savedPosition = state.position;
      const savedLine = state.line;
      const savedLineStart = state.lineStart;
      const savedLineIndent = state.lineIndent;
      skipSeparationSpace(state, false);
      if (state.lineIndent >= nodeIndent) {
        multiline = true;
        ch = state.input.charCodeAt(state.position);
        continue;
      }
      state.position = savedPosition;
      state.line = savedLine;
      state.lineStart = savedLineStart;
      state.lineIndent = savedLineIndent;
      break;
    }
    if (!isWhiteSpace(ch)) end = state.position + 1;
    ch = state.input.charCodeAt(++state.position);
  }
  if (end === start) return false;
  checkPrintable(state, start, end);
  addScalarEvent(state, start, end, props.anchorStart, props.anchorEnd, props.tagStart, props.tagEnd, SCALAR_STYLE.PLAIN, CHOMPING_MODE.CLIP, -1, !multiline);
  return true;
}
function skipFlowSeparationSpace(state, nodeIndent) {
  const startLine = state.line;
  skipSeparationSpace(state, true);
  if (state.line > startLine && state.lineIndent < nodeIndent || state.firstTabInLine !== -1 && state.lineIndent < nodeIndent) throwError(state, "deficient indentation");
}
function readFlowCollection(state, nodeIndent, props) {
  const ch = state.input.charCodeAt(state.position);
  const isMapping2 = ch === 123;
  const start = state.position;
  let readNext = true;
  if (ch !== 91 && ch !== 123) return false;
  const terminator = isMapping2 ? 125 : 93;
  if (isMapping2) addMappingEvent(state, start, props.anchorStart, props.anchorEnd, props.tagStart, props.tagEnd, COLLECTION_STYLE.FLOW);
  else addSequenceEvent(state, start, props.anchorStart, props.anchorEnd, props.tagStart, props.tagEnd, COLLECTION_STYLE.FLOW);
  state.position++;
  while (state.input.charCodeAt(state.position) !== 0) {
    skipFlowSeparationSpace(state, nodeIndent);
    let ch2 = state.input.charCodeAt(state.position);
    if (ch2 === terminator) {
      state.position++;
      addPopEvent(state);
      return true;
    } else if (!readNext) throwError(state, "missed comma between flow collection entries");
    else if (ch2 === 44) throwError(state, "expected the node content, but found ','");
    let isPair = false;
    let isExplicitPair = false;
    if (ch2 === 63 && isWsOrEol(state.input.charCodeAt(state.position + 1))) {
      isPair = isExplicitPair = true;
      state.position += 1;
      skipFlowSeparationSpace(state, nodeIndent);
    }
    const entryLine = state.line;
    const entryStart = snapshotState(state);
    const keyWasRead = parseNode(state, nodeIndent, CONTEXT_FLOW_IN, false, true);
    skipFlowSeparationSpace(state, nodeIndent);
    ch2 = state.input.charCodeAt(state.position);
    if ((isMapping2 || isExplicitPair || state.line === entryLine) && ch2 === 58) {
      isPair = true;
      state.position++;
      skipFlowSeparationSpace(state, nodeIndent);
      if (!isMapping2) {
        insertFlowPairMappingEvent(state, entryStart);
        if (!keyWasRead) addEmptyScalarEvent(state);
      } else if (!keyWasRead) addEmptyScalarEvent(state);
      if (!parseNode(state, nodeIndent, CONTEXT_FLOW_IN, false, true)) addEmptyScalarEvent(state);
      skipFlowSeparationSpace(state, nodeIndent);
      if (!isMapping2) addPopEvent(state);
    } else if (isMapping2 && isPair) {
      if (!keyWasRead) addEmptyScalarEvent(state);
      addEmptyScalarEvent(state);
    } else if (isMapping2) addEmptyScalarEvent(state);
    else if (isPair) {
      insertFlowPairMappingEvent(state, entryStart);
      if (!keyWasRead) addEmptyScalarEvent(state);
      addEmptyScalarEvent(state);
      addPopEvent(state);
    }
    ch2 = state.input.charCodeAt(state.position);
    if (ch2 === 44) {
      readNext = true;
      state.position++;
    } else readNext = false;
  }
  throwError(state, "unexpected end of the stream within a flow collection");
}
function readBlockSequence(state, nodeIndent, props) {
  if (state.firstTabInLine !== -1 || state.input.charCodeAt(state.position) !== 45 || !isWsOrEolOrEnd(state.input.charCodeAt(state.position + 1))) return false;
  addSequenceEvent(state, state.position, props.anchorStart, props.anchorEnd, props.tagStart, props.tagEnd, COLLECTION_STYLE.BLOCK);
  while (state.input.charCodeAt(state.position) === 45 && isWsOrEolOrEnd(state.input.charCodeAt(state.position + 1))) {
    if (state.firstTabInLine !== -1) {
      state.position = state.firstTabInLine;
      throwError(state, "tab characters must not be used in indentation");
    }
    const entryLine = state.line;
    state.position++;
    const hadBreak = skipSeparationSpace(state, true) > 0;
    if (state.firstTabInLine !== -1 && state.input.charCodeAt(state.position) === 45 && isWsOrEolOrEnd(state.input.charCodeAt(state.position + 1))) throwError(state, "bad indentation of a sequence entry");
    if (hadBreak && state.lineIndent <= nodeIndent) addEmptyScalarEvent(state);
    else parseNode(state, nodeIndent, CONTEXT_BLOCK_IN, false, true);
    skipSeparationSpace(state, true);
    if (state.lineIndent < nodeIndent || state.position >= state.length) break;
    if (state.lineIndent > nodeIndent) throwError(state, "bad indentation of a sequence entry");
    if (state.line === entryLine && state.input.charCodeAt(state.position) === 45 && isWsOrEolOrEnd(state.input.charCodeAt(state.position + 1))) throwError(state, "bad indentation of a sequence entry");
  }
  addPopEvent(state);
  return true;
}
function readBlockMapping(state, nodeIndent, flowIndent, props) {
  let atExplicitKey = false;
  let detected = false;
  let mappingOpened = false;
  let pendingExplicitKey = false;
  if (state.firstTabInLine !== -1) return false;
  let ch = state.input.charCodeAt(state.position);
  while (ch !== 0) {
    if (!atExplicitKey && state.firstTabInLine !== -1) {
      state.position = state.firstTabInLine;
      throwError(state, "tab characters must not be used in indentation");
    }
    const following = state.input.charCodeAt(state.position + 1);
    const entryLine = state.line;
    if ((ch === 63 || ch === 58) && isWsOrEolOrEnd(following)) {
      if (!mappingOpened) {
        addMappingEvent(state, state.position, props.anchorStart, props.anchorEnd, props.tagStart, props.tagEnd, COLLECTION_STYLE.BLOCK);
        mappingOpened = true;
      }
      if (ch === 63) {
        if (atExplicitKey) addEmptyScalarEvent(state);
        detected = true;
        atExplicitKey = true;
      } else if (atExplicitKey) atExplicitKey = false;
      else {
        addEmptyScalarEvent(state);
        detected = true;
        atExplicitKey = false;
      }
      state.position += 1;
      pendingExplicitKey = true;
    } else {
      if (atExplicitKey) {
        addEmptyScalarEvent(state);
        atExplicitKey = false;
      }
      const beforeKey = snapshotState(state);
      if (!parseNode(state, flowIndent, CONTEXT_FLOW_OUT, false, true)) break;
      if (state.line === entryLine) {
        ch = state.input.charCodeAt(state.position);
        while (isWhiteSpace(ch)) ch = state.input.charCodeAt(++state.position);
        if (ch === 58) {
          ch = state.input.charCodeAt(++state.position);
          if (!isWsOrEolOrEnd(ch)) throwError(state, "a whitespace character is expected after the key-value separator within a block mapping");
          if (!mappingOpened) {
            state.events.splice(beforeKey.eventsLength, 0, {
              type: EVENT_ID.MAPPING,
              start: beforeKey.position,
              anchorStart: props.anchorStart,
              anchorEnd: props.anchorEnd,
              tagStart: props.tagStart,
              tagEnd: props.tagEnd,
              style: COLLECTION_STYLE.BLOCK
            });
            mappingOpened = true;
          }
          detected = true;
          atExplicitKey = false;
          pendingExplicitKey = false;
        } else if (detected) throwError(state, "expected ':' after a mapping key");
        else {
          if (props.anchorStart !== NO_RANGE$1 || props.tagStart !== NO_RANGE$1) {
            restoreState(state, beforeKey);
            return false;
          }
          return true;
        }
      } else if (detected) throwError(state, "can not read a block mapping entry; a multiline key may not be an implicit key");
      else {
        if (props.anchorStart !== NO_RANGE$1 || props.tagStart !== NO_RANGE$1) {
          restoreState(state, beforeKey);
          return false;
        }
        return true;
      }
    }
    if (parseNode(state, nodeIndent, CONTEXT_BLOCK_OUT, true, pendingExplicitKey)) pendingExplicitKey = false;
    if (!atExplicitKey) {
      if (pendingExplicitKey) {
        addEmptyScalarEvent(state);
        pendingExplicitKey = false;
      }
    }
    skipSeparationSpace(state, true);
    ch = state.input.charCodeAt(state.position);
    if ((state.line === entryLine || state.lineIndent > nodeIndent) && ch !== 0) throwError(state, "bad indentation of a mapping entry");
    else if (state.lineIndent < nodeIndent) break;
  }
  if (!detected) return false;
  if (atExplicitKey) addEmptyScalarEvent(state);
  if (mappingOpened) addPopEvent(state);
  return true;
}
function parseNode(state, parentIndent, nodeContext, allowToSeek, allowCompact, allowPropertyMapping = true) {
  if (state.depth >= state.maxDepth) throwError(state, `nesting exceeded maxDepth (${state.maxDepth})`);
  state.depth++;
  let indentStatus = 1;
  let atNewLine = false;
  let hasContent = false;
  let propertyStart = null;
  const props = emptyProperties();
  let allowBlockScalars = nodeContext === CONTEXT_BLOCK_OUT || nodeContext === CONTEXT_BLOCK_IN;
  let allowBlockCollections = allowBlockScalars;
  const allowBlockStyles = allowBlockScalars;
  if (allowToSeek && skipSeparationSpace(state, true)) {
    atNewLine = true;
    if (state.lineIndent > parentIndent) indentStatus = 1;
    else if (state.lineIndent === parentIndent) indentStatus = 0;
    else indentStatus = -1;
  }
  if (indentStatus === 1) while (true) {
    const ch = state.input.charCodeAt(state.position);
    const propertyState = snapshotState(state);
    if (atNewLine && indentStatus !== 1 && (ch === 33 || ch === 38)) break;
    if (atNewLine && allowBlockStyles && (props.tagStart !== NO_RANGE$1 || props.anchorStart !== NO_RANGE$1) && (ch === 33 || ch === 38)) {
      const fallbackState = snapshotState(state);
      const flowIndent = parentIndent + 1;
      if (readBlockMapping(state, state.position - state.lineStart, flowIndent, props) && state.events[fallbackState.eventsLength]?.type === EVENT_ID.MAPPING) {
        state.depth--;
        return true;
      }
      restoreState(state, fallbackState);
    }
    if (atNewLine && (ch === 33 && props.tagStart !== NO_RANGE$1 || ch === 38 && props.anchorStart !== NO_RANGE$1)) break;
    if (!readTagProperty(state, props, nodeContext === CONTEXT_FLOW_IN) && !readAnchorProperty(state, props)) break;
    if (propertyStart === null) propertyStart = propertyState;
    if (skipSeparationSpace(state, true)) {
      atNewLine = true;
      allowBlockCollections = allowBlockStyles;
      if (state.lineIndent > parentIndent) indentStatus = 1;
      else if (state.lineIndent === parentIndent) indentStatus = 0;
      else indentStatus = -1;
    } else allowBlockCollections = false;
  }
  if (allowBlockCollections) allowBlockCollections = atNewLine || allowCompact;
  if (indentStatus === 1 || nodeContext === CONTEXT_BLOCK_OUT) {
    const flowIndent = nodeContext === CONTEXT_FLOW_IN || nodeContext === CONTEXT_FLOW_OUT ? parentIndent : parentIndent + 1;
    const blockIndent = state.position - state.lineStart;
    if (indentStatus === 1) {
      if (allowBlockCollections && (readBlockSequence(state, blockIndent, props) || readBlockMapping(state, blockIndent, flowIndent, props)) || readFlowCollection(state, flowIndent, props)) hasContent = true;
      else {
        const ch = state.input.charCodeAt(state.position);
        if (propertyStart !== null && allowPropertyMapping && allowBlockStyles && !allowBlockCollections && ch !== 124 && ch !== 62) {
          const fallbackState = snapshotState(state);
          const propertyIndent = propertyStart.position - propertyStart.lineStart;
          restoreState(state, propertyStart);
          if (readBlockMapping(state, propertyIndent, flowIndent, emptyProperties()) && state.events[fallbackState.eventsLength]?.type === EVENT_ID.MAPPING) hasContent = true;
          else restoreState(state, fallbackState);
        }
        if (!hasContent && (allowBlockScalars && readBlockScalar(state, flowIndent, props) || readSingleQuotedScalar(state, flowIndent, props) || readDoubleQuotedScalar(state, flowIndent, props) || readAlias(state, props) || readPlainScalar(state, flowIndent, nodeContext, props))) hasContent = true;
      }
    } else if (indentStatus === 0) hasContent = allowBlockCollections && readBlockSequence(state, blockIndent, props);
  }
  allowBlockScalars = allowBlockScalars && !hasContent;
  if (!hasContent && (props.anchorStart !== NO_RANGE$1 || props.tagStart !== NO_RANGE$1 || allowBlockScalars)) {
    addScalarEvent(state, NO_RANGE$1, NO_RANGE$1, props.anchorStart, props.anchorEnd, props.tagStart, props.tagEnd, SCALAR_STYLE.PLAIN);
    hasContent = true;
  }
  state.depth--;
  return hasContent || props.anchorStart !== NO_RANGE$1 || props.tagStart !== NO_RANGE$1;
}
function readDirective(state) {
  if (state.lineIndent > 0 || state.input.charCodeAt(state.position) !== 37) return false;
  state.position++;
  const nameStart = state.position;
  while (state.input.charCodeAt(state.position) !== 0 && !isWsOrEol(state.input.charCodeAt(state.position))) state.position++;
  const name = state.input.slice(nameStart, state.position);
  const args = [];
  if (name.length === 0) throwError(state, "directive name must not be less than one character in length");
  while (state.input.charCodeAt(state.position) !== 0 && !isEol(state.input.charCodeAt(state.position))) {
    while (isWhiteSpace(state.input.charCodeAt(state.position))) state.position++;
    if (state.input.charCodeAt(state.position) === 35 || isEol(state.input.charCodeAt(state.position)) || state.input.charCodeAt(state.position) === 0) break;
    const start = state.position;
    while (state.input.charCodeAt(state.position) !== 0 && !isWsOrEol(state.input.charCodeAt(state.position))) state.position++;
    args.push(state.input.slice(start, state.position));
  }
  if (isEol(state.input.charCodeAt(state.position))) consumeLineBreak(state);
  if (name === "YAML") {
    if (state.directives.some((directive) => directive.kind === "yaml")) throwError(state, "duplication of %YAML directive");
    if (args.length !== 1) throwError(state, "YAML directive accepts exactly one argument");
    const match = /^([0-9]+)\.([0-9]+)$/.exec(args[0]);
    if (match === null) throwError(state, "ill-formed argument of the YAML directive");
    if (parseInt(match[1], 10) !== 1) throwError(state, "unacceptable YAML version of the document");
    state.directives.push({
      kind: "yaml",
      version: args[0]
    });
  } else if (name === "TAG") {
    if (args.length !== 2) throwError(state, "TAG directive accepts exactly two arguments");
    const [handle, prefix] = args;
    if (!PATTERN_TAG_HANDLE.test(handle)) throwError(state, "ill-formed tag handle (first argument) of the TAG directive");
    if (HAS_OWN.call(state.tagHandlers, handle)) throwError(state, `there is a previously declared suffix for "${handle}" tag handle`);
    if (!PATTERN_TAG_PREFIX.test(prefix)) throwError(state, "ill-formed tag prefix (second argument) of the TAG directive");
    state.tagHandlers[handle] = prefix;
    state.directives.push({
      kind: "tag",
      handle,
      prefix
    });
  }
  return true;
}
function readDocument(state) {
  state.directives = [];
  state.tagHandlers = /* @__PURE__ */ Object.create(null);
  let hasDirectives = false;
  skipSeparationSpace(state, true);
  while (readDirective(state)) {
    hasDirectives = true;
    skipSeparationSpace(state, true);
  }
  let explicitStart = false;
  let explicitEnd = false;
  let allowCompact = true;
  if (state.lineIndent === 0 && state.input.charCodeAt(state.position) === 45 && state.input.charCodeAt(state.position + 1) === 45 && state.input.charCodeAt(state.position + 2) === 45 && isWsOrEolOrEnd(state.input.charCodeAt(state.position + 3))) {
    explicitStart = true;
    const markerLine = state.line;
    state.position += 3;
    skipSeparationSpace(state, true);
    allowCompact = state.line > markerLine;
  } else if (hasDirectives) throwError(state, "directives end mark is expected");
  const documentEventIndex = state.events.length;
  if (!explicitStart && state.position === state.lineStart && state.input.charCodeAt(state.position) === 46 && testDocumentSeparator(state)) {
    state.position += 3;
    skipSeparationSpace(state, true);
    return;
  }
  addDocumentEvent(state, explicitStart, false);
  if (!parseNode(state, state.lineIndent - 1, CONTEXT_BLOCK_OUT, false, allowCompact, allowCompact)) addEmptyScalarEvent(state);
  skipSeparationSpace(state, true);
  if (state.position === state.lineStart && testDocumentSeparator(state)) {
    explicitEnd = state.input.charCodeAt(state.position) === 46;
    if (explicitEnd) {
      const markerLine = state.line;
      state.position += 3;
      skipSeparationSpace(state, true);
      if (state.line === markerLine && state.position < state.length) throwError(state, "end of the stream or a document separator is expected");
    }
  }
  const documentEvent = state.events[documentEventIndex];
  if (documentEvent?.type === EVENT_ID.DOCUMENT) documentEvent.explicitEnd = explicitEnd;
  addPopEvent(state);
  if (!explicitEnd && state.position < state.length && !testDocumentBoundary(state)) throwError(state, "end of the stream or a document separator is expected");
}
function parseEvents(input, options) {
  const length = input.length;
  const state = {
    ...DEFAULT_PARSER_OPTIONS,
    ...options,
    input: `${input}\0`,
    length,
    position: 0,
    line: 0,
    lineStart: 0,
    lineIndent: 0,
    firstTabInLine: -1,
    depth: 0,
    directives: [],
    tagHandlers: /* @__PURE__ */ Object.create(null),
    events: []
  };
  const nullpos = input.indexOf("\0");
  if (nullpos !== -1) YAMLException.throwAt(input, nullpos, "null byte is not allowed in input", state.filename);
  while (state.position < state.length) {
    skipByteOrderMark(state);
    skipSeparationSpace(state, true);
    if (state.position >= state.length) break;
    const documentStart = state.position;
    readDocument(state);
    if (state.position === documentStart)
      throwError(state, "can not read a document");
  }
  return state.events;
}
var DEFAULT_LOAD_OPTIONS = {
  ...DEFAULT_PARSER_OPTIONS,
  ...DEFAULT_CONSTRUCTOR_OPTIONS
};
function loadDocuments(input, options = {}) {
  const opts = {
    ...DEFAULT_LOAD_OPTIONS,
    ...options
  };
  const source = String(input);
  const PARSER_OPT_KEYS = Object.keys(DEFAULT_PARSER_OPTIONS);
  const CONSTRUCTOR_OPT_KEYS = Object.keys(DEFAULT_CONSTRUCTOR_OPTIONS);
  return constructFromEvents(parseEvents(source, pick(opts, PARSER_OPT_KEYS)), {
    ...pick(opts, CONSTRUCTOR_OPT_KEYS),
    source
  });
}
function load(input, options) {
  const documents = loadDocuments(input, options);
  if (documents.length === 0) throw new YAMLException("expected a document, but the input is empty");
  if (documents.length === 1) return documents[0];
  throw new YAMLException("expected a single document in the stream, but found more");
}
function hasBit(mask, bit) {
  return (mask & 1 << bit) !== 0;
}
var DEFAULT_SCALAR_STYLE_RULES = {
  applyQuoteFlowKeysOption,
  doubleQuoteForInvisibles,
  doubleQuoteWhitespaceOnly,
  applyForceQuotesOption,
  tryLongOrMultilineAsBlock,
  quoteInvalidPlain,
  fallbackToDoubleQuoted
};
function _preferredQuotedStyle(layout) {
  if (layout.presenterOptions.quoteStyle === "single" && hasBit(layout.allowedStylesMask, SCALAR_STYLE.SINGLE_QUOTED)) return SCALAR_STYLE.SINGLE_QUOTED;
  return SCALAR_STYLE.DOUBLE_QUOTED;
}
function applyQuoteFlowKeysOption(layout) {
  if (!layout.presenterOptions.quoteFlowKeys) return;
  if (!layout.isKey || !layout.flowOnly || layout.style !== SCALAR_STYLE.PLAIN) return;
  layout.style = SCALAR_STYLE.DOUBLE_QUOTED;
}
function doubleQuoteForInvisibles(layout) {
  if (layout.style === SCALAR_STYLE.PLAIN && /[\t\x7F-\xA0\u2028\u2029\uFEFF\uFFFE\uFFFF]/.test(layout.node.value)) layout.style = SCALAR_STYLE.DOUBLE_QUOTED;
}
function doubleQuoteWhitespaceOnly(layout) {
  if (layout.style === SCALAR_STYLE.PLAIN && /^\s+$/.test(layout.node.value)) layout.style = SCALAR_STYLE.DOUBLE_QUOTED;
}
function applyForceQuotesOption(layout) {
  if (!layout.presenterOptions.forceQuotes) return;
  if (layout.isKey || layout.style !== SCALAR_STYLE.PLAIN) return;
  if (layout.node.tag !== layout.presenterOptions.schema.defaultScalarTag.tagName) return;
  layout.style = layout.node.value.includes("\n") ? SCALAR_STYLE.DOUBLE_QUOTED : _preferredQuotedStyle(layout);
}
function tryLongOrMultilineAsBlock(layout) {
  if (layout.style !== SCALAR_STYLE.PLAIN || layout.isKey) return;
  const value = layout.node.value;
  const multiline = value.indexOf("\n") !== -1;
  if (!hasBit(layout.allowedStylesMask, SCALAR_STYLE.LITERAL_BLOCK)) {
    if (multiline) layout.style = SCALAR_STYLE.DOUBLE_QUOTED;
    return;
  }
  const w = layout.presenterOptions.lineWidth;
  if (w === -1) {
    if (multiline) layout.style = SCALAR_STYLE.LITERAL_BLOCK;
    return;
  }
  const availableWidth = Math.max(Math.min(w, 40), w - layout.shiftOfContent);
  let position = 0;
  let shouldFold = false;
  while (position <= value.length) {
    let lineEnd = value.length;
    const nextLineBreak = value.indexOf("\n", position);
    if (nextLineBreak !== -1) lineEnd = nextLineBreak;
    const line = value.slice(position, lineEnd);
    if (line.length > availableWidth && line[0] !== " " && / [^ \t]/.test(line)) shouldFold = true;
    if (nextLineBreak === -1) break;
    position = nextLineBreak + 1;
  }
  if (shouldFold) layout.style = SCALAR_STYLE.FOLDED_BLOCK;
  else if (multiline) layout.style = SCALAR_STYLE.LITERAL_BLOCK;
}
function quoteInvalidPlain(layout) {
  if (layout.style === SCALAR_STYLE.PLAIN && !hasBit(layout.allowedStylesMask, SCALAR_STYLE.PLAIN)) layout.style = _preferredQuotedStyle(layout);
}
function fallbackToDoubleQuoted(layout) {
  if (!hasBit(layout.allowedStylesMask, layout.style)) layout.style = SCALAR_STYLE.DOUBLE_QUOTED;
}
var SRC_C_PRINTABLE = "[\\x09\\x0A\\x0D\\x20-\\x7E\\x85\\xA0-\\uD7FF\\uE000-\\uFFFD\\u{10000}-\\u{10FFFF}]";
var SRC_B_CHAR = "[\\n\\r]";
var SRC_C_BYTE_ORDER_MARK = "\\uFEFF";
var SRC_S_WHITE = "[ \\t]";
var SRC_NB_CHAR = `(?:(?!(?:${SRC_B_CHAR}|${SRC_C_BYTE_ORDER_MARK}))${SRC_C_PRINTABLE})`;
var SRC_NS_CHAR = `(?:(?!${SRC_S_WHITE})${SRC_NB_CHAR})`;
var SRC_NB_JSON = "[\\x09\\x20-\\uD7FF\\uE000-\\uFFFF\\u{10000}-\\u{10FFFF}]";
var SRC_C_INDICATOR = "[-?:,\\[\\]{}#&*!|>'\"%@`]";
var SRC_C_FLOW_INDICATOR = "[,\\[\\]{}]";
var SRC_NS_PLAIN_SAFE_FLOW_OUT = SRC_NS_CHAR;
var SRC_NS_PLAIN_SAFE_FLOW_IN = `(?:(?!${SRC_C_FLOW_INDICATOR})${SRC_NS_CHAR})`;
var SRC_NS_PLAIN_FIRST_FLOW_OUT = `(?:(?:(?!${SRC_C_INDICATOR})${SRC_NS_CHAR})|[?:-](?=${SRC_NS_PLAIN_SAFE_FLOW_OUT}))`;
var SRC_NS_PLAIN_FIRST_FLOW_IN = `(?:(?:(?!${SRC_C_INDICATOR})${SRC_NS_CHAR})|[?:-](?=${SRC_NS_PLAIN_SAFE_FLOW_IN}))`;
var SRC_NS_PLAIN_CHAR_FLOW_OUT = `(?:(?:(?![:#])${SRC_NS_PLAIN_SAFE_FLOW_OUT})|:(?=${SRC_NS_PLAIN_SAFE_FLOW_OUT}))#*`;
var SRC_NS_PLAIN_CHAR_FLOW_IN = `(?:(?:(?![:#])${SRC_NS_PLAIN_SAFE_FLOW_IN})|:(?=${SRC_NS_PLAIN_SAFE_FLOW_IN}))#*`;
var SRC_NB_NS_PLAIN_IN_LINE_FLOW_OUT = `(?:${SRC_S_WHITE}*${SRC_NS_PLAIN_CHAR_FLOW_OUT})*`;
var SRC_NB_NS_PLAIN_IN_LINE_FLOW_IN = `(?:${SRC_S_WHITE}*${SRC_NS_PLAIN_CHAR_FLOW_IN})*`;
var SRC_NS_PLAIN_ONE_LINE_FLOW_OUT = `${SRC_NS_PLAIN_FIRST_FLOW_OUT}#*${SRC_NB_NS_PLAIN_IN_LINE_FLOW_OUT}`;
var SRC_NS_PLAIN_ONE_LINE_FLOW_IN = `${SRC_NS_PLAIN_FIRST_FLOW_IN}#*${SRC_NB_NS_PLAIN_IN_LINE_FLOW_IN}`;
var SRC_NS_PLAIN_ONE_LINE_BLOCK_KEY = SRC_NS_PLAIN_ONE_LINE_FLOW_OUT;
var SRC_NS_PLAIN_ONE_LINE_FLOW_KEY = SRC_NS_PLAIN_ONE_LINE_FLOW_IN;
var SRC_S_NS_PLAIN_NEXT_LINE_FLOW_OUT = `\\n+${SRC_NS_PLAIN_CHAR_FLOW_OUT}${SRC_NB_NS_PLAIN_IN_LINE_FLOW_OUT}`;
var SRC_S_NS_PLAIN_NEXT_LINE_FLOW_IN = `\\n+${SRC_NS_PLAIN_CHAR_FLOW_IN}${SRC_NB_NS_PLAIN_IN_LINE_FLOW_IN}`;
var SRC_NS_PLAIN_MULTI_LINE_FLOW_OUT = `${SRC_NS_PLAIN_ONE_LINE_FLOW_OUT}(?:${SRC_S_NS_PLAIN_NEXT_LINE_FLOW_OUT})*`;
var SRC_NS_PLAIN_MULTI_LINE_FLOW_IN = `${SRC_NS_PLAIN_ONE_LINE_FLOW_IN}(?:${SRC_S_NS_PLAIN_NEXT_LINE_FLOW_IN})*`;
var NS_PLAIN_FLOW_OUT = new RegExp(`^(?:${SRC_NS_PLAIN_MULTI_LINE_FLOW_OUT})$`, "u");
var NS_PLAIN_FLOW_IN = new RegExp(`^(?:${SRC_NS_PLAIN_MULTI_LINE_FLOW_IN})$`, "u");
var NS_PLAIN_BLOCK_KEY = new RegExp(`^(?:${SRC_NS_PLAIN_ONE_LINE_BLOCK_KEY})$`, "u");
var NS_PLAIN_FLOW_KEY = new RegExp(`^(?:${SRC_NS_PLAIN_ONE_LINE_FLOW_KEY})$`, "u");
var NB_SINGLE_ONE_LINE = new RegExp(`^(?:${SRC_NB_JSON})*$`, "u");
var NB_SINGLE_MULTI_LINE = new RegExp(`^(?:${SRC_NB_JSON}|\\n)*$`, "u");
var BLOCK_SCALAR_CONTENT = new RegExp(`^(?:${SRC_NB_CHAR}|\\n)*$`, "u");
var DEFAULT_PRESENTER_OPTIONS = {
  indent: 2,
  seqNoIndent: false,
  seqInlineFirst: true,
  lineWidth: 80,
  flowBracketPadding: false,
  flowSkipCommaSpace: false,
  flowSkipColonSpace: false,
  quoteFlowKeys: false,
  quoteStyle: "single",
  forceQuotes: false,
  scalarStyleRules: Object.keys(DEFAULT_SCALAR_STYLE_RULES).map((name) => Reflect.get(DEFAULT_SCALAR_STYLE_RULES, name)),
  tagBeforeAnchor: false
};
var DEFAULT_DUMP_OPTIONS = {
  ...DEFAULT_PRESENTER_OPTIONS,
  schema: DUMP_SCHEMA,
  skipInvalid: false,
  noRefs: false,
  flowLevel: -1,
  sortKeys: false,
  transform: () => {
  }
};
var EVENT_DOCUMENT = EVENT_ID.DOCUMENT;
var EVENT_SEQUENCE = EVENT_ID.SEQUENCE;
var EVENT_MAPPING = EVENT_ID.MAPPING;
var EVENT_SCALAR = EVENT_ID.SCALAR;
var EVENT_ALIAS = EVENT_ID.ALIAS;
var EVENT_POP = EVENT_ID.POP;
var SCALAR_STYLE_PLAIN = SCALAR_STYLE.PLAIN;
var SCALAR_STYLE_SINGLE_QUOTED = SCALAR_STYLE.SINGLE_QUOTED;
var SCALAR_STYLE_DOUBLE_QUOTED = SCALAR_STYLE.DOUBLE_QUOTED;
var SCALAR_STYLE_LITERAL_BLOCK = SCALAR_STYLE.LITERAL_BLOCK;
var SCALAR_STYLE_FOLDED_BLOCK = SCALAR_STYLE.FOLDED_BLOCK;
var COLLECTION_STYLE_BLOCK = COLLECTION_STYLE.BLOCK;
var COLLECTION_STYLE_FLOW = COLLECTION_STYLE.FLOW;
var CHOMPING_CLIP = CHOMPING_MODE.CLIP;
var CHOMPING_STRIP = CHOMPING_MODE.STRIP;
var CHOMPING_KEEP = CHOMPING_MODE.KEEP;

// src/manifest/patch-glob.ts
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
var REAL_FILES = {
  exists: (file) => existsSync(file),
  listDir: (dir) => {
    try {
      return readdirSync(dir);
    } catch {
      return null;
    }
  }
};
function hasWildcard(pattern) {
  return /[*?]/.test(pattern);
}
function matchPatchPattern(pattern, baseDir, files = REAL_FILES) {
  const full = path.resolve(baseDir, pattern);
  const base = path.basename(full);
  if (hasWildcard(path.dirname(full))) return { error: "wildcards are allowed in the file name only" };
  if (!hasWildcard(base)) return files.exists(full) ? { files: [full] } : { error: `no such file (${full})` };
  const re = new RegExp(
    `^${base.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`
  );
  const matches = (files.listDir(path.dirname(full)) ?? []).filter((n) => re.test(n)).sort().map((n) => path.join(path.dirname(full), n));
  return matches.length > 0 ? { files: matches } : { error: `no file matches (in ${path.dirname(full)})` };
}

// src/manifest/project-file.ts
var ProjectFileError = class extends Error {
  constructor(problems) {
    super(problems.map((p) => `${formatPosition(p.at)}: ${p.message}`).join("\n"));
    this.problems = problems;
    this.name = "ProjectFileError";
  }
  problems;
};
function formatPosition(at) {
  return `${at.file}:${at.line}:${at.column}`;
}
var TOP_KEYS = ["kernel-releases", "id", "hooks", "check", "accept", "patches"];
var PATCH_KEYS = ["patch", "id", "hooks", "check", "accept"];
var ACCEPT_KEYS = ["symbol", "rule", "reason"];
function pathKey(p) {
  return JSON.stringify(p);
}
function nodeOffsets(source, events) {
  const offsets = /* @__PURE__ */ new Map();
  let i = 0;
  const startOf = (e) => e.type === EVENT_ID.SCALAR ? e.valueStart : e.type === EVENT_ID.SEQUENCE || e.type === EVENT_ID.MAPPING ? e.start : -1;
  const node = (at) => {
    const e = events[i++];
    if (e.type === EVENT_ID.SEQUENCE) {
      for (let index = 0; events[i].type !== EVENT_ID.POP; index++) {
        const child = [...at, index];
        const start = startOf(events[i]);
        if (start >= 0) offsets.set(pathKey(child), start);
        node(child);
      }
      i++;
    } else if (e.type === EVENT_ID.MAPPING) {
      while (events[i].type !== EVENT_ID.POP) {
        const keyEvent = events[i];
        const key = keyEvent.type === EVENT_ID.SCALAR ? source.slice(keyEvent.valueStart, keyEvent.valueEnd) : "?";
        node([...at, "#key"]);
        const child = [...at, key];
        offsets.set(pathKey(child), startOf(keyEvent));
        node(child);
      }
      i++;
    }
  };
  while (i < events.length) {
    const e = events[i];
    if (e.type === EVENT_ID.DOCUMENT) {
      i++;
      if (events[i] && events[i].type !== EVENT_ID.POP) {
        offsets.set(pathKey([]), startOf(events[i]));
        node([]);
      }
    } else i++;
  }
  return offsets;
}
function positionAt(source, file, offset) {
  const before = source.slice(0, Math.max(0, offset));
  const line = before.split("\n").length;
  return { file, line, column: offset - (before.lastIndexOf("\n") + 1) + 1 };
}
function describePath(p) {
  return p.reduce((s, k) => typeof k === "number" ? `${s}[${k}]` : s ? `${s}.${k}` : k, "") || "the file";
}
function typeName(v) {
  if (v === null) return "nothing (null)";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `a ${typeof v} (${JSON.stringify(v)})`;
}
function isMapping(v) {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
async function readProjectFile(file, files = REAL_FILES) {
  const full = path2.resolve(file);
  const text = await readFile(full, "utf8").catch((e) => {
    throw new ProjectFileError([{ at: { file, line: 1, column: 1 }, message: `cannot read the project file (${e.code ?? e.message})` }]);
  });
  return parseProjectFile(text, file, files);
}
function parseProjectFile(text, file, files = REAL_FILES) {
  const baseDir = path2.dirname(path2.resolve(file));
  if (text.trim() === "")
    throw new ProjectFileError([{ at: { file, line: 1, column: 1 }, message: "the file is empty: it needs patches" }]);
  let value;
  try {
    value = load(text, { filename: file });
  } catch (e) {
    if (e instanceof YAMLException && e.mark) {
      throw new ProjectFileError([{ at: { file, line: e.mark.line + 1, column: e.mark.column + 1 }, message: `not YAML: ${e.reason}` }]);
    }
    throw new ProjectFileError([{ at: { file, line: 1, column: 1 }, message: `not YAML: ${e.message}` }]);
  }
  const offsets = nodeOffsets(text, parseEvents(text, { filename: file }));
  const problems = [];
  const at = (p) => {
    for (let n = p.length; n >= 0; n--) {
      const offset = offsets.get(pathKey(p.slice(0, n)));
      if (offset !== void 0) return positionAt(text, file, offset);
    }
    return { file, line: 1, column: 1 };
  };
  const problem = (p, message) => problems.push({ at: at(p), message });
  const knownKeys = (v, p, known) => {
    for (const key of Object.keys(v)) {
      if (!known.includes(key)) problem([...p, key], `unknown key '${key}' in ${describePath(p)} (known: ${known.join(", ")})`);
    }
  };
  const str = (v, p, what) => {
    if (v === void 0) return null;
    if (typeof v === "string" && v.trim() !== "") return v.trim();
    problem(p, `${describePath(p)}: expected ${what}, got ${typeName(v)}`);
    return null;
  };
  const existingFile = (v, p, what) => {
    const name = str(v, p, what);
    if (name === null) return null;
    const full = path2.resolve(baseDir, name);
    if (!files.exists(full)) {
      problem(p, `${describePath(p)}: ${name}: no such file (${full})`);
      return null;
    }
    return full;
  };
  const acceptList = (v, p) => {
    if (v === void 0) return [];
    if (!Array.isArray(v)) {
      problem(p, `${describePath(p)}: expected a list of findings ({symbol, rule}), got ${typeName(v)}`);
      return [];
    }
    const out = [];
    v.forEach((item, index) => {
      const ip = [...p, index];
      if (typeof item === "string") {
        if (item.trim()) out.push({ symbol: item.trim(), rule: null, reason: null, at: at(ip) });
        else problem(ip, `${describePath(ip)}: an empty symbol`);
        return;
      }
      if (!isMapping(item)) {
        problem(ip, `${describePath(ip)}: expected a symbol or {symbol, rule, reason}, got ${typeName(item)}`);
        return;
      }
      knownKeys(item, ip, ACCEPT_KEYS);
      const symbol = str(item.symbol, [...ip, "symbol"], "the symbol of a finding (free_uid, struct foo, kernel/sys.o)");
      if (item.symbol === void 0) problem(ip, `${describePath(ip)}: symbol is required`);
      let rule = null;
      const ruleName = str(item.rule, [...ip, "rule"], "a rule code");
      if (ruleName !== null) {
        if (!isRuleCode(ruleName))
          problem([...ip, "rule"], `${describePath([...ip, "rule"])}: unknown rule '${ruleName}' (rules: ${RULE_CODES.join(", ")})`);
        else if (!FINDING_RULES[ruleName].acceptable)
          problem(
            [...ip, "rule"],
            `${describePath([...ip, "rule"])}: rule ${ruleName} cannot be accepted (${FINDING_RULES[ruleName].message}); change the patch instead`
          );
        else rule = ruleName;
      }
      const reason = str(item.reason, [...ip, "reason"], "a sentence");
      if (symbol !== null) out.push({ symbol, rule, reason, at: at(ip) });
    });
    return out;
  };
  if (!isMapping(value)) {
    problem([], `expected a mapping with ${TOP_KEYS.join(", ")}, got ${typeName(value)}`);
    throw new ProjectFileError(problems);
  }
  knownKeys(value, [], TOP_KEYS);
  const kernelReleases = [];
  const releasesValue = value["kernel-releases"];
  if (releasesValue !== void 0) {
    if (!Array.isArray(releasesValue) || releasesValue.length === 0) {
      problem(
        ["kernel-releases"],
        `kernel-releases: expected a list of Debian kernel releases (6.1.0-50-amd64), got ${typeName(releasesValue)}`
      );
    } else {
      releasesValue.forEach((r, index) => {
        const rp = ["kernel-releases", index];
        const name = str(r, rp, "a Debian kernel release (6.1.0-50-amd64)");
        if (name === null) return;
        try {
          parseRelease(name);
        } catch (e) {
          return problem(rp, `${describePath(rp)}: ${e.message}`);
        }
        if (kernelReleases.includes(name)) return problem(rp, `${describePath(rp)}: ${name} is listed twice`);
        kernelReleases.push(name);
      });
    }
  }
  const topId = str(value.id, ["id"], "an update id");
  const topHooks = existingFile(value.hooks, ["hooks"], "a hooks file (C, kmod/ksplice_hooks.h)");
  const topCheck = existingFile(value.check, ["check"], "a guest check script");
  const topAccept = acceptList(value.accept, ["accept"]);
  const patches = [];
  const patchesValue = value.patches;
  if (patchesValue === void 0) problem([], "patches is required: a list of patch files or patterns (patches/*.patch)");
  else if (!Array.isArray(patchesValue) || patchesValue.length === 0) {
    problem(["patches"], `patches: expected a list of patch files or patterns, got ${typeName(patchesValue)}`);
  } else {
    const seen = /* @__PURE__ */ new Map();
    patchesValue.forEach((entry, index) => {
      const ep = ["patches", index];
      let pattern;
      let patchPath = ep;
      let own = {};
      if (typeof entry === "string") pattern = str(entry, ep, "a patch file or pattern");
      else if (isMapping(entry)) {
        knownKeys(entry, ep, PATCH_KEYS);
        own = entry;
        patchPath = [...ep, "patch"];
        if (entry.patch === void 0) problem(ep, `${describePath(ep)}: patch is required (a patch file or pattern)`);
        pattern = str(entry.patch, patchPath, "a patch file or pattern");
      } else {
        problem(ep, `${describePath(ep)}: expected a patch file, a pattern or {patch, id, hooks, check, accept}, got ${typeName(entry)}`);
        return;
      }
      const id = str(own.id, [...ep, "id"], "an update id");
      const hooks = own.hooks === void 0 ? topHooks : existingFile(own.hooks, [...ep, "hooks"], "a hooks file (C, kmod/ksplice_hooks.h)");
      const check = own.check === void 0 ? topCheck : existingFile(own.check, [...ep, "check"], "a guest check script");
      const accept = [...topAccept, ...acceptList(own.accept, [...ep, "accept"])];
      if (pattern === null) return;
      const match = matchPatchPattern(pattern, baseDir, files);
      if ("error" in match) return problem(patchPath, `${describePath(patchPath)}: ${pattern}: ${match.error}`);
      if (id !== null && match.files.length > 1)
        problem([...ep, "id"], `${describePath([...ep, "id"])}: id names one update, but ${pattern} matches ${match.files.length} files`);
      for (const file2 of match.files) {
        const earlier = seen.get(file2);
        if (earlier) problem(patchPath, `${describePath(patchPath)}: ${path2.relative(baseDir, file2)} is already built by ${earlier}`);
        else seen.set(file2, describePath(ep));
        patches.push({ patch: file2, id, hooks, check, accept, at: at(ep) });
      }
    });
  }
  const updatesPerId = Math.max(1, kernelReleases.length);
  if (topId !== null) {
    if (patches.length === 1 && updatesPerId === 1) patches[0].id ??= topId;
    else if (patches.length * updatesPerId > 1)
      problem(
        ["id"],
        `id names one update, but the file builds ${patches.length} patch(es) \xD7 ${updatesPerId} release(s); give each patch its own id`
      );
  }
  if (updatesPerId > 1) {
    for (const p of patches.filter((p2) => p2.id !== null)) {
      problems.push({
        at: p.at,
        message: `id ${p.id} names one update, but kernel-releases lists ${updatesPerId} releases (leave id out: each release's update gets its own)`
      });
    }
  }
  problems.sort((a, b) => a.at.line - b.at.line || a.at.column - b.at.column);
  if (problems.length > 0) throw new ProjectFileError(problems);
  return {
    file,
    kernelReleases,
    kernelReleasesAt: releasesValue === void 0 ? null : at(["kernel-releases"]),
    patches
  };
}
function acceptedSymbols(accept) {
  return [...new Set(accept.map((a) => a.symbol))];
}
function acceptedBeyondRules(accepted, accept) {
  return accepted.filter((f) => {
    const entries = accept.filter((a) => a.symbol === f.symbol);
    return entries.length > 0 && !entries.some((a) => a.rule === null || a.rule === f.rule);
  });
}

// src/manifest/updates.ts
function plannedUpdates(project, fallback) {
  const releases = project.kernelReleases.length > 0 ? project.kernelReleases : fallback;
  return releases.flatMap((release) => project.patches.map((p) => ({ ...p, release })));
}
function enforceAcceptRules(outcome, accept) {
  const beyond = acceptedBeyondRules(outcome.accepted, accept);
  if (beyond.length === 0) return { outcome, removedTarball: null };
  const notes = beyond.map((f) => {
    const rules = accept.filter((a) => a.symbol === f.symbol).map((a) => a.rule);
    return `${f.symbol} [${f.rule}]: the project file accepts ${f.symbol} for ${rules.join(", ")} only (add an accept entry with rule: ${f.rule} if it is reviewed)`;
  });
  return {
    outcome: {
      ...outcome,
      outcome: "unsafe",
      tarball: null,
      unsafe: [...outcome.unsafe, ...beyond],
      accepted: outcome.accepted.filter((f) => !beyond.includes(f)),
      notes: [...outcome.notes, ...notes]
    },
    // the unsafe shape of the same outcome type (CreateOutcome's union)
    removedTarball: outcome.tarball
  };
}
function worstExitCode(codes) {
  for (const code of [EXIT.unsafe, EXIT.noChanges]) if (codes.includes(code)) return code;
  return codes.find((c) => c !== EXIT.ok) ?? EXIT.ok;
}

// src/create/annotations.ts
import path3 from "node:path";
function escapeData(s) {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}
function escapeProperty(s) {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}
function findingAnnotations(patchPath, unsafe, accepted, workspace = process.env.GITHUB_WORKSPACE) {
  const file = workspace ? path3.relative(workspace, patchPath) : patchPath;
  const line = (kind, title, f) => `::${kind} file=${escapeProperty(file)},title=${escapeProperty(`ksplice: ${title} (${f.symbol})`)}::${escapeData(describeFinding(f))}`;
  return [
    ...unsafe.map((f) => line("error", "needs custom code", f)),
    ...accepted.map((f) => line("notice", "accepted with custom code", f))
  ];
}

// src/create/cli-spec.ts
var CREATE_CLI = defineCli({
  name: "ksplice-create",
  summary: "build a rebootless update (ksplice-<id>.tar.gz) from a kernel source patch",
  usage: [
    "--patch=FILE [--config=DIR] [--id=ID] [--output-dir=DIR] [--json] [--analyze-only] [--allow-toolchain-mismatch] [--skip-reproduction-check] [--hooks=FILE.c] [--accept=SYMBOL[,SYMBOL]] [--sign-key=FILE --sign-cert=FILE] KERNEL_SOURCE",
    "--patch=FILE --kernel-release=RELEASE [options]   (a Debian release, prepared by the setup)",
    "--manifest=ksplice.yml [--kernel-release=RELEASE | KERNEL_SOURCE] [options]   (every patch \xD7 release of the project file)"
  ],
  positionals: true,
  options: {
    patch: { type: "string", value: "FILE", description: "the source patch (unified diff, applied with -p1 to the kernel tree)" },
    config: {
      type: "string",
      value: "DIR",
      description: "the target's .config, System.map, build -> headers and shipped vmlinux (default: KERNEL_SOURCE/ksplice)"
    },
    id: { type: "string", value: "ID", description: "the update id (default: derived from the patch)" },
    "output-dir": { type: "string", value: "DIR", description: "where ksplice-<id>.tar.gz is written (default: the current folder)" },
    json: { type: "boolean", default: false, description: "print the outcome as one JSON object on stdout, whatever the outcome" },
    "analyze-only": { type: "boolean", default: false, description: "stop after the safety verdict: no modules built, no tarball" },
    "allow-toolchain-mismatch": {
      type: "boolean",
      default: false,
      description: "build even if this machine's compiler is not the one that built the target"
    },
    "skip-reproduction-check": {
      type: "boolean",
      default: false,
      description: "build without the shipped vmlinux/.ko: run-pre matching at apply time is the only check"
    },
    "kernel-release": {
      type: "string",
      value: "RELEASE",
      description: "a Debian release (6.1.0-50-amd64): the setup prepares its tree, instead of KERNEL_SOURCE"
    },
    hooks: {
      type: "string",
      value: "FILE.c",
      description: "the author's hook code (kmod/ksplice_hooks.h), compiled into the update module (docs/hooks.md)"
    },
    manifest: {
      type: "string",
      value: "ksplice.yml",
      description: "the project file: its patches (or series), ids, hooks and accepted findings, built one update per patch and kernel release (instead of --patch, --id, --hooks, --accept; docs/action.md)"
    },
    accept: {
      type: "string",
      multiple: true,
      value: "SYMBOL[,SYMBOL]",
      description: "findings of the safety analysis the author has reviewed (their `symbol`): they no longer refuse the update"
    },
    "sign-key": {
      type: "string",
      value: "FILE",
      description: "sign ksplice.ko and the update module with this private key (PEM; KBUILD_SIGN_PIN if encrypted), for Secure Boot hosts; needs --sign-cert"
    },
    "sign-cert": {
      type: "string",
      value: "FILE",
      description: "the key's X.509 certificate (PEM or DER), the one the target trusts; its sha256 goes into the manifest"
    }
  },
  notes: [
    "With --manifest, each update is built as --patch with that entry's --id, --hooks and --accept would build it, for each of the file's kernel-releases (else --kernel-release or KERNEL_SOURCE); --json prints one line per update, and the exit code is the worst outcome (unsafe, then no changes). An error in the file names its line: FILE:LINE:COLUMN: message (exit 64).",
    'Without --json the tarball path is printed on stdout; a refusal and "No changes detected" go to stderr. In GitHub Actions (GITHUB_ACTIONS=true) each finding is also printed on stderr as an annotation of the patch file.'
  ],
  exitCodes: ["ok", "error", "unsafe", "usage", "noChanges", "sigint", "sigterm"]
});

// src/create/create.ts
import { readFile as readFile14, mkdtemp, rm as rm4 } from "node:fs/promises";
import os3 from "node:os";
import path16 from "node:path";

// src/diff/source-rules.ts
function changedLines(patchText) {
  const out = [];
  let file = "";
  let line = 0;
  let inHunk = false;
  for (const raw of patchText.split("\n")) {
    if (raw.startsWith("+++ ")) {
      const name = raw.slice(4).split("	")[0].trim();
      file = name.slice(name.indexOf("/") + 1);
      inHunk = false;
      continue;
    }
    if (raw.startsWith("--- ") && !inHunk) continue;
    const hunk = /^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@/.exec(raw);
    if (hunk) {
      line = Number(hunk[1]);
      inHunk = true;
      continue;
    }
    if (!inHunk) continue;
    if (raw.startsWith("diff ")) {
      inHunk = false;
      continue;
    }
    if (raw.startsWith("-")) {
      out.push({ file, preLine: line, kind: "-", text: raw.slice(1) });
      line++;
    } else if (raw.startsWith("+")) {
      out.push({ file, preLine: line, kind: "+", text: raw.slice(1) });
    } else if (raw.startsWith(" ")) {
      line++;
    }
  }
  return out;
}
function stripForBraces(source) {
  let text = source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " "));
  text = text.replace(/\/\/[^\n]*/g, "").replace(/"(?:\\.|[^"\\\n])*"/g, '""').replace(/'(?:\\.|[^'\\\n])*'/g, "''");
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*#/.test(lines[i])) continue;
    while (i < lines.length && lines[i].trimEnd().endsWith("\\")) lines[i++] = "";
    if (i < lines.length) lines[i] = "";
  }
  return lines;
}
function enclosingBlock(lines, line) {
  let depth = 0;
  let opener = null;
  let pending = "";
  for (let i = 0; i < line - 1 && i < lines.length; i++) {
    for (const ch of lines[i] + "\n") {
      if (ch === "{") {
        if (depth === 0) opener = pending.replace(/\s+/g, " ").trim();
        depth++;
        pending = "";
      } else if (ch === "}") {
        depth = Math.max(0, depth - 1);
        if (depth === 0) opener = null;
        pending = "";
      } else if (ch === ";") {
        pending = "";
      } else {
        pending += ch;
      }
    }
  }
  return depth > 0 ? opener : null;
}
function isDeclarationLine(text) {
  const code = text.replace(/\/\*.*?\*\//g, "").replace(/\/\/.*$/, "").trim();
  return code !== "" && !/^[{}]+;?$/.test(code) && !code.startsWith("/*") && !code.startsWith("*") && !code.startsWith("#");
}
function structWhoseLayoutChanges(opener, text, typedefName = null) {
  if (!opener || !isDeclarationLine(text)) return null;
  const m = /^(?:typedef\s+)?(struct|union)\s+([A-Za-z_]\w*)(?:\s+__\w+(?:\([^)]*\))?)*$/.exec(opener);
  if (m) return `${m[1]} ${m[2]}`;
  const anonymous = /^typedef\s+(struct|union)(?:\s+__\w+(?:\([^)]*\))?)*$/.exec(opener);
  return anonymous && typedefName ? `${anonymous[1]} ${typedefName} (typedef)` : null;
}
function typedefNameOfBlock(lines, line) {
  let depth = 0;
  let closedAt = null;
  for (let i = 0; i < lines.length && !closedAt; i++) {
    const row = lines[i];
    for (let j = 0; j < row.length; j++) {
      if (row[j] === "{") depth++;
      else if (row[j] === "}") {
        depth = Math.max(0, depth - 1);
        if (depth === 0 && i >= line - 1) {
          closedAt = { row: i, col: j + 1 };
          break;
        }
      }
    }
  }
  if (!closedAt) return null;
  const after = [lines[closedAt.row].slice(closedAt.col), ...lines.slice(closedAt.row + 1, closedAt.row + 4)].join(" ");
  const declarators = after.split(";")[0];
  const names = declarators.match(/[A-Za-z_]\w*/g) ?? [];
  return names.filter((n) => !/^__\w+$/.test(n)).pop() ?? null;
}
function canonicalMember(text) {
  return text.replace(/\/\*.*?\*\//g, " ").replace(/\/\/.*$/, "").replace(/\s+/g, " ").replace(/\s*([;,*[\]():])\s*/g, "$1").replace(/\bunsigned(?! (?:int|long|short|char)\b)/g, "unsigned int").replace(/\bsigned(?! (?:int|long|short|char)\b)/g, "int").replace(/\b(long|short) int\b/g, "$1").trim();
}
function sameMembers(removed, added) {
  const a = removed.map(canonicalMember).filter(Boolean);
  const b = added.map(canonicalMember).filter(Boolean);
  return a.length === b.length && a.every((m, i) => m === b[i]);
}
function inlineFunctionOfHeader(file, opener) {
  if (!file.endsWith(".h") || !opener) return null;
  if (!/\b(inline|__always_inline)\b/.test(opener)) return null;
  const m = /([A-Za-z_]\w*)\s*\([^()]*(?:\([^()]*\)[^()]*)*\)\s*(?:__\w+\s*)*$/.exec(opener);
  return m ? m[1] : null;
}
function isLibArchiveMember(object, makefileText) {
  const base = object.slice(object.lastIndexOf("/") + 1);
  const joined = makefileText.replace(/\\\n/g, " ");
  for (const m of joined.matchAll(/^\s*lib-(?:y|\$\(CONFIG_\w+\))\s*[:+]?=\s*(.*)$/gm)) {
    const members = m[1].split(/\s+/).map((w) => w.replace(/\$\(BITS\)/, "64"));
    if (members.includes(base)) return true;
  }
  return false;
}
function isAssemblySource(file) {
  return file.endsWith(".S");
}
function functionBodies(lines) {
  const out = [];
  let depth = 0;
  let pending = "";
  let current = null;
  for (const ch of lines.join("\n")) {
    if (ch === "{") {
      if (depth === 0) current = definedFunction(pending.replace(/\s+/g, " ").trim());
      else if (current) current.body += ch;
      depth++;
      pending = "";
    } else if (ch === "}") {
      depth = Math.max(0, depth - 1);
      if (depth === 0 && current) {
        out.push(current);
        current = null;
      } else if (current) current.body += ch;
      pending = "";
    } else if (depth > 0) {
      if (current) current.body += ch;
    } else if (ch === ";") {
      pending = "";
    } else {
      pending += ch;
    }
  }
  return out;
}
function definedFunction(opener) {
  if (/^(?:typedef\s+)?(?:struct|union|enum)\b[^(]*$/.test(opener) || /=$/.test(opener)) return null;
  const m = /([A-Za-z_]\w*)\s*\([^()]*(?:\([^()]*\)[^()]*)*\)\s*(?:__\w+(?:\([^)]*\))?\s*)*$/.exec(opener);
  return m ? { name: m[1], body: "" } : null;
}
function functionsReaching(targets, bodies) {
  const names = new Set(targets);
  const reaching = /* @__PURE__ */ new Set();
  for (let grew = true; grew; ) {
    grew = false;
    const named = new RegExp(`\\b(?:${[...names].map((n) => n.replace(/\W/g, "")).join("|")})\\b`);
    for (const b of bodies) {
      if (reaching.has(b.name) || !named.test(b.body)) continue;
      reaching.add(b.name);
      names.add(b.name);
      grew = true;
    }
  }
  return reaching;
}
async function sourceWithIncludedC(file, readPre) {
  const text = await readPre(file).catch(() => "");
  const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/") + 1) : "";
  const included = [...text.matchAll(/^\s*#\s*include\s+"([^"]+\.c)"/gm)].map((m) => m[1]);
  const parts = await Promise.all(included.map((f) => readPre(`${dir}${f}`).catch(() => "")));
  return [text, ...parts].join("\n");
}
function sourceName(fn) {
  return fn.split(".")[0];
}
async function callersOfInline(inline, headerBodies, input) {
  if (input.objects.length === 0) return "the patch was not built, so they are not listed";
  const targets = /* @__PURE__ */ new Set([inline, ...functionsReaching([inline], headerBodies)]);
  const callers = [];
  const unsorted = [];
  for (const { object, changedFunctions } of input.objects) {
    if (changedFunctions.length === 0) continue;
    const source = await sourceWithIncludedC(object.replace(/\.o$/, ".c"), input.readPre);
    if (!source) {
      unsorted.push(...changedFunctions.map((f) => `${f} (${object})`));
      continue;
    }
    const reaching = functionsReaching(targets, functionBodies(stripForBraces(source)));
    callers.push(...changedFunctions.filter((f) => reaching.has(sourceName(f))).map((f) => `${f} (${object})`));
  }
  const listed = callers.length ? `here ${callers.join(", ")}` : "none of the changed functions calls it";
  return unsorted.length ? `${listed}; changed in objects whose source was not read: ${unsorted.join(", ")}` : listed;
}
async function sourceSafetyFindings(input) {
  const findings = [];
  const byFile = /* @__PURE__ */ new Map();
  for (const l of changedLines(input.patchText)) byFile.set(l.file, [...byFile.get(l.file) ?? [], l]);
  for (const [file, lines] of byFile) {
    if (!/\.(c|h)$/.test(file)) continue;
    const pre = await input.readPre(file).catch(() => "");
    if (!pre) continue;
    const stripped = stripForBraces(pre);
    const structs = /* @__PURE__ */ new Map();
    const inlines = /* @__PURE__ */ new Set();
    for (const l of lines) {
      const opener = enclosingBlock(stripped, l.preLine);
      const struct = structWhoseLayoutChanges(
        opener,
        l.text,
        opener && /^typedef\s+(struct|union)\b/.test(opener) ? typedefNameOfBlock(stripped, l.preLine) : null
      );
      if (struct) {
        const members = structs.get(struct) ?? { removed: [], added: [] };
        (l.kind === "-" ? members.removed : members.added).push(l.text);
        structs.set(struct, members);
      }
      const inline = inlineFunctionOfHeader(file, opener);
      if (inline && isDeclarationLine(l.text)) inlines.add(inline);
    }
    for (const [s, members] of structs) {
      if (sameMembers(members.removed, members.added)) continue;
      findings.push(
        finding(
          "data-layout",
          s,
          `data layout of ${s} changed in ${file}: the running kernel's ${s} objects keep the old layout and code the update does not replace (other objects, loaded modules) keeps the old offsets; keep the layout and attach new fields as shadow variables (ksplice_shadow_* in kmod/ksplice_hooks.h)`
        )
      );
    }
    const headerBodies = inlines.size ? functionBodies(stripped) : [];
    for (const f of inlines) {
      findings.push(
        finding(
          "header-inline",
          f,
          `inline function ${f} of header ${file} changed: its code is copied into every caller, so the update must replace all of them \u2014 ${await callersOfInline(f, headerBodies, input)} \u2014 and loadable modules built with the old ${f} keep it`
        )
      );
    }
  }
  for (const { object, changedFunctions } of input.objects) {
    if (changedFunctions.length === 0) continue;
    const dir = object.includes("/") ? object.slice(0, object.lastIndexOf("/")) : ".";
    const makefile = await input.readPre(`${dir}/Makefile`).catch(() => "");
    if (isLibArchiveMember(object, makefile)) {
      findings.push(
        finding(
          "lib-archive",
          object,
          `${object} is a lib-y archive member (${dir}/Makefile): it is linked into vmlinux only if something refers to it, may be built without ftrace, and the running kernel may lack or duplicate its functions (${changedFunctions.join(", ")})`
        )
      );
    }
    const source = object.replace(/\.o$/, ".S");
    if (input.patchText.includes(`/${source}`) && isAssemblySource(source)) {
      findings.push(
        finding(
          "assembly",
          object,
          `${source} is assembly: its functions (${changedFunctions.join(", ")}) have no fentry call for ftrace to redirect, and hand-written entry/low-level code cannot be switched under a running CPU`
        )
      );
    }
  }
  return findings;
}

// src/create/double-build.ts
import { copyFile, mkdir as mkdir2, readFile as readFile4, rm as rm2 } from "node:fs/promises";
import os2 from "node:os";
import path6 from "node:path";

// src/create/patch-file.ts
var PatchDoesNotApplyError = class extends Error {
  constructor(patchPath, tree, output) {
    super(`patch ${patchPath} does not apply to ${tree}; the tree was left untouched:
${output.trim()}`);
    this.output = output;
    this.name = "PatchDoesNotApplyError";
  }
  output;
};
function touchedFiles(patchText) {
  const files = /* @__PURE__ */ new Set();
  const lines = patchText.split("\n");
  for (let i = 0; i < lines.length - 1; i++) {
    if (!lines[i].startsWith("--- ") || !lines[i + 1].startsWith("+++ ")) continue;
    const oldName = diffPathName(lines[i].slice(4));
    const newName = diffPathName(lines[i + 1].slice(4));
    const name = newName === "/dev/null" ? oldName : newName;
    if (name && name !== "/dev/null") files.add(stripFirstComponent(name));
  }
  return [...files].sort();
}
function diffPathName(field) {
  return field.split("	")[0].trim();
}
function stripFirstComponent(name) {
  const slash = name.indexOf("/");
  return slash === -1 ? name : name.slice(slash + 1);
}
var PATCH_FLAGS = ["-p1", "--fuzz=0", "--batch", "--forward", "--no-backup-if-mismatch", "--reject-file=-"];
async function assertPatchApplies(tree, patchPath) {
  const result = await runUnchecked("patch", [...PATCH_FLAGS, "--dry-run", "-i", patchPath], { cwd: tree });
  if (result.exitCode !== 0) throw new PatchDoesNotApplyError(patchPath, tree, result.stdout + result.stderr);
}
async function applyPatch(tree, patchPath) {
  await assertPatchApplies(tree, patchPath);
  const result = await runUnchecked("patch", [...PATCH_FLAGS, "-s", "-i", patchPath], { cwd: tree });
  if (result.exitCode !== 0) throw new PatchDoesNotApplyError(patchPath, tree, result.stdout + result.stderr);
}
async function reversePatch(tree, patchPath) {
  const flags = PATCH_FLAGS.filter((f) => f !== "--forward");
  const result = await runUnchecked("patch", [...flags, "-R", "-s", "-i", patchPath], { cwd: tree });
  if (result.exitCode !== 0) {
    throw new Error(`could not reverse ${patchPath} in ${tree}; restore the tree by hand:
${(result.stdout + result.stderr).trim()}`);
  }
}

// src/create/pristine-tree.ts
import { createHash } from "node:crypto";
import { mkdir, readFile as readFile2, readdir, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path4 from "node:path";
var PATCH_JOURNAL = ".ksplice-patch-journal";
async function fingerprintFiles(tree, files) {
  const result = /* @__PURE__ */ new Map();
  for (const file of files) {
    const data = await readFile2(path4.join(tree, file)).catch(() => null);
    result.set(file, data ? createHash("sha256").update(data).digest("hex") : null);
  }
  return result;
}
function changedFiles(before, after) {
  return [...before.keys()].filter((f) => before.get(f) !== after.get(f));
}
var TreeNotPristineError = class extends Error {
  constructor(tree, files) {
    super(`kernel tree ${tree} is not pristine after reversing the patch: ${files.join(", ")} differ`);
    this.name = "TreeNotPristineError";
  }
};
var InterruptedError = class extends Error {
  constructor(signal, tree) {
    super(`interrupted by ${signal}: the patch was reversed and ${tree} is pristine again`);
    this.signal = signal;
    this.name = "InterruptedError";
  }
  signal;
  get exitCode() {
    return 128 + (os.constants.signals[this.signal] ?? 0);
  }
};
var TreeLeftPatchedError = class extends Error {
  constructor(tree, files, why) {
    super(
      `${tree} was left patched by a ksplice-create that was killed (journal ${path4.join(tree, PATCH_JOURNAL)}): ${files.join(", ")} differ from the pristine tree and ${why}; restore those files from the kernel source and remove the journal`
    );
    this.name = "TreeLeftPatchedError";
  }
};
var journalDir = (tree) => path4.join(tree, PATCH_JOURNAL);
async function writeJournal(tree, patchPath, files, before) {
  const staging = `${journalDir(tree)}.${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  await writeFile(path4.join(staging, "patch"), await readFile2(patchPath));
  const journal = { files, before: [...before], pid: process.pid };
  await writeFile(path4.join(staging, "journal.json"), JSON.stringify(journal));
  await rename(staging, journalDir(tree));
}
async function readJournal(tree) {
  const text = await readFile2(path4.join(journalDir(tree), "journal.json"), "utf8").catch(() => null);
  return text === null ? null : JSON.parse(text);
}
async function recoverInterruptedRun(tree, log = stderrSink) {
  const journal = await readJournal(tree);
  if (!journal) return;
  const before = new Map(journal.before);
  const differ = changedFiles(before, await fingerprintFiles(tree, journal.files));
  if (differ.length > 0) {
    log(`a previous ksplice-create (pid ${journal.pid}) was killed with its patch applied to ${differ.join(", ")}: reversing it`);
    try {
      await reversePatch(tree, path4.join(journalDir(tree), "patch"));
    } catch {
      throw new TreeLeftPatchedError(tree, differ, "the journaled patch does not reverse cleanly");
    }
    await removeEmptyDirsLeftBy(tree, journal.files, before);
    const still = changedFiles(before, await fingerprintFiles(tree, journal.files));
    if (still.length > 0) throw new TreeLeftPatchedError(tree, still, "reversing the journaled patch did not give back the pristine files");
    log(`${tree} is pristine again`);
  }
  await rm(journalDir(tree), { recursive: true, force: true });
}
async function withPatchApplied(tree, patchPath, work, log = stderrSink) {
  const files = touchedFiles(await readFile2(patchPath, "utf8"));
  const before = await fingerprintFiles(tree, files);
  await writeJournal(tree, patchPath, files, before);
  const applying = applyPatch(tree, patchPath);
  let restoring = null;
  const restore = () => restoring ??= applying.then(
    () => reverseAndVerify(tree, patchPath, files, before),
    () => undoFailedApply(tree, patchPath, files, before)
  );
  let interrupted = null;
  const onSignal = (signal) => {
    if (interrupted) return;
    interrupted = signal;
    const done = new InterruptedError(signal, tree);
    restore().then(
      () => log(done.message),
      (e) => log(`interrupted by ${signal}, and the tree could not be restored: ${e.message}`)
    ).finally(() => process.exit(done.exitCode));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const finish = async () => {
    try {
      await restore();
    } finally {
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
    }
    if (interrupted) throw new InterruptedError(interrupted, tree);
  };
  let result;
  try {
    await applying;
    result = await work();
  } catch (e) {
    await finish();
    throw e;
  }
  await finish();
  return result;
}
async function reverseAndVerify(tree, patchPath, files, before) {
  await reversePatch(tree, patchPath);
  await removeEmptyDirsLeftBy(tree, files, before);
  const stillDifferent = changedFiles(before, await fingerprintFiles(tree, files));
  if (stillDifferent.length > 0) throw new TreeNotPristineError(tree, stillDifferent);
  await rm(journalDir(tree), { recursive: true, force: true });
}
async function undoFailedApply(tree, patchPath, files, before) {
  if (changedFiles(before, await fingerprintFiles(tree, files)).length > 0) return reverseAndVerify(tree, patchPath, files, before);
  await rm(journalDir(tree), { recursive: true, force: true });
}
async function removeEmptyDirsLeftBy(tree, files, before) {
  for (const file of files) {
    if (before.get(file) !== null) continue;
    let dir = path4.dirname(file);
    while (dir !== "." && (await readdir(path4.join(tree, dir)).catch(() => ["?"])).length === 0) {
      await rm(path4.join(tree, dir), { recursive: true });
      dir = path4.dirname(dir);
    }
  }
}

// src/create/header-users.ts
import { readFile as readFile3 } from "node:fs/promises";
import path5 from "node:path";
var X86_INCLUDE_ROOTS = [
  "arch/x86/include/",
  "arch/x86/include/generated/",
  "include/",
  "arch/x86/include/uapi/",
  "arch/x86/include/generated/uapi/",
  "include/uapi/",
  "include/generated/uapi/"
];
var OTHER_ARCHES = "alpha|arc|arm|arm64|csky|hexagon|ia64|loongarch|m68k|microblaze|mips|nios2|openrisc|parisc|powerpc|riscv|s390|sh|sparc|um|xtensa";
function parseIncludeLines(grepOutput) {
  const lines = [];
  const otherArch = new RegExp(`^arch/(${OTHER_ARCHES})/`);
  for (const line of grepOutput.split("\n")) {
    const m = /^\.\/([^:]+):\s*#\s*include\s*([<"])([^>"]+)[>"]/.exec(line);
    if (!m || otherArch.test(m[1])) continue;
    lines.push({ includer: m[1], name: m[3], quoted: m[2] === '"' });
  }
  return lines;
}
function angleNamesOf(header2) {
  return X86_INCLUDE_ROOTS.filter((root2) => header2.startsWith(root2)).map((root2) => header2.slice(root2.length));
}
function push(map, key, value) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
function indexIncludes(lines) {
  const index = { byName: /* @__PURE__ */ new Map(), byQuotedPath: /* @__PURE__ */ new Map() };
  for (const line of lines) {
    push(index.byName, line.name, line.includer);
    if (line.quoted) {
      push(index.byQuotedPath, path5.posix.normalize(path5.posix.join(path5.posix.dirname(line.includer), line.name)), line.includer);
    }
  }
  return index;
}
function includersOf(index, header2) {
  return [...index.byQuotedPath.get(header2) ?? [], ...angleNamesOf(header2).flatMap((name) => index.byName.get(name) ?? [])];
}
function filesIncluding(index, file) {
  const reached = /* @__PURE__ */ new Set([file]);
  const queue = [file];
  while (queue.length > 0) {
    for (const includer of includersOf(index, queue.shift())) {
      if (reached.has(includer)) continue;
      reached.add(includer);
      queue.push(includer);
    }
  }
  return [...reached];
}
var isCompiled = (f) => /\.(c|S)$/.test(f);
function includeGraphFrom(lines, scope = "all") {
  const index = indexIncludes(lines);
  return {
    scope,
    filesIncluding: (file) => filesIncluding(index, file),
    sourcesIncluding: (file) => filesIncluding(index, file).filter(isCompiled).sort(),
    forcedThrough: (file, forced) => {
      const reached = new Set(filesIncluding(index, file));
      return forced.find((f) => reached.has(f));
    }
  };
}
var INCLUDE_LINE = {
  all: '^\\s*#\\s*include\\s*[<"]',
  // About 500 lines in 6.1, and a faster read than the 335k of 'all'.
  "c-files": '^\\s*#\\s*include\\s*[<"][^>"]*\\.c[>"]'
};
async function readIncludeGraph(tree, scope = "all") {
  const result = await runUnchecked(
    "grep",
    [
      "-rEH",
      "--include=*.c",
      "--include=*.h",
      "--include=*.S",
      INCLUDE_LINE[scope],
      "--exclude-dir=Documentation",
      "--exclude-dir=tools",
      "--exclude-dir=samples",
      "--exclude-dir=.git",
      "."
    ],
    { cwd: tree }
  );
  return includeGraphFrom(parseIncludeLines(result.stdout), scope);
}
var FLAG_MAKEFILES = ["Makefile", "scripts/Makefile.lib", "arch/x86/Makefile"];
async function forcedIncludes(tree) {
  const forced = /* @__PURE__ */ new Set();
  for (const makefile of FLAG_MAKEFILES) {
    const text = await readFile3(path5.join(tree, makefile), "utf8").catch(() => "");
    for (const m of text.matchAll(/-include \$\((?:srctree|objtree)\)\/(\S+\.h)\b/g)) forced.add(m[1]);
  }
  return [...forced].sort();
}
function dependencyPath(token, tree) {
  const inTree = tree && token.startsWith(`${tree}/`) ? token.slice(tree.length + 1) : token;
  return path5.posix.normalize(inTree.replace(/^\$\(srctree\)\//, ""));
}
async function objectDependsOn(tree, object, file) {
  const cmdFile = path5.join(tree, path5.dirname(object), `.${path5.basename(object)}.cmd`);
  const text = await readFile3(cmdFile, "utf8");
  return text.split(/\s+/).some((token) => dependencyPath(token, path5.resolve(tree)) === file);
}

// src/create/double-build.ts
var UnsupportedPatchError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "UnsupportedPatchError";
  }
};
function isCompiledSource(file) {
  return /\.(c|S)$/.test(file);
}
function objectOf(source) {
  return source.replace(/\.(c|S)$/, ".o");
}
function isHeader(file) {
  return file.endsWith(".h");
}
function isOutsideTheBuild(file) {
  return /^(Documentation|LICENSES|samples|tools)\//.test(file) || /(^|\/)(MAINTAINERS|CREDITS|README[^/]*)$/.test(file);
}
var MAX_OBJECTS_PER_UPDATE = 100;
function refuseForcedHeader(file, graph, forced) {
  const via = graph.forcedThrough(file, forced);
  if (!via) return;
  const how = via === file ? "kbuild forces it into every compile with -include" : `${via} includes it and kbuild forces that into every compile with -include`;
  throw new UnsupportedPatchError(`${file} is in every object of the kernel (${how}): too wide for a targeted update`);
}
async function builtUsersOf(file, graphs, built) {
  let graph = await graphs.get(isHeader(file) ? "all" : "c-files");
  if (graph.scope === "c-files" && graph.filesIncluding(file).some(isHeader)) graph = await graphs.get("all");
  return graph.sourcesIncluding(file).filter((source) => built.has(objectOf(source)));
}
function includeGraphs(tree) {
  const read = /* @__PURE__ */ new Map();
  return {
    get(scope) {
      if (!read.has(scope)) read.set(scope, readIncludeGraph(tree, scope));
      return read.get(scope);
    }
  };
}
async function planObjects(tree, files, log) {
  const unsupported = files.filter((f) => !isCompiledSource(f) && !isHeader(f) && !isOutsideTheBuild(f));
  if (unsupported.length > 0) {
    throw new UnsupportedPatchError(
      `the patch changes build files, not code: ${unsupported.join(", ")}; Kconfig and Makefile changes need a new kernel, not an update`
    );
  }
  const built = await kbuildObjects(tree, log);
  const graphs = includeGraphs(tree);
  const forced = await forcedIncludes(tree);
  const planned = /* @__PURE__ */ new Map();
  const notBuilt = [];
  const add = (source, because) => {
    const object = objectOf(source);
    const entry = planned.get(object) ?? { object, home: built.get(object), because: [] };
    entry.because.push(because);
    planned.set(object, entry);
  };
  for (const file of files.filter((f) => isCompiledSource(f) || isHeader(f))) {
    if (isHeader(file)) refuseForcedHeader(file, await graphs.get("all"), forced);
    const users = await builtUsersOf(file, graphs, built);
    if (users.length > MAX_OBJECTS_PER_UPDATE) {
      throw new UnsupportedPatchError(
        `${file} is included by ${users.length} objects of this config (more than ${MAX_OBJECTS_PER_UPDATE}): too wide for a targeted update`
      );
    }
    if (users.length === 0 && isCompiledSource(file)) notBuilt.push(file);
    for (const source of users) add(source, file);
  }
  return { objects: [...planned.values()].sort((a, b) => a.object.localeCompare(b.object)), notBuilt };
}
async function doubleBuild(options) {
  const { tree, patchPath, outDir } = options;
  const log = options.log ?? stderrSink;
  const jobs = options.jobs ?? os2.availableParallelism();
  const progress = new Progress("double build", 3, log);
  return withLock(
    `${tree}.build.lock`,
    async () => {
      progress.step(`checking that ${path6.basename(patchPath)} applies; planning objects`);
      await recoverInterruptedRun(tree, (l) => progress.info(l));
      await assertPatchApplies(tree, patchPath);
      const plan = await planObjects(tree, touchedFiles(await readFile4(patchPath, "utf8")), (l) => progress.info(l));
      for (const source of plan.notBuilt) progress.info(`${source} is not compiled in this configuration: skipped`);
      const preDir = path6.join(outDir, "pre");
      const postDir = path6.join(outDir, "post");
      progress.step(`pre build: ${plan.objects.length} object(s)`);
      await removeObjects(
        tree,
        plan.objects.map((o) => o.object)
      );
      await buildObjects(
        tree,
        plan.objects.map((o) => o.object),
        jobs,
        progress
      );
      const objects = await dropObjectsNotDependingOnTheirHeaders(tree, plan.objects);
      await collectObjects(tree, objects, preDir);
      progress.step(`post build (patch applied): ${objects.join(" ")}`);
      if (objects.length === 0) {
        progress.done("no object of this configuration is affected by the patch");
        return {
          objects,
          notBuilt: plan.notBuilt,
          homes: Object.fromEntries(plan.objects.map((o) => [o.object, o.home])),
          preDir,
          postDir,
          timingsMs: progress.timings
        };
      }
      await withPatchApplied(
        tree,
        patchPath,
        async () => {
          await buildObjects(tree, objects, jobs, progress);
          await collectObjects(tree, objects, postDir);
        },
        log
      );
      progress.done(`${objects.length} object(s) built twice; tree pristine again`);
      return {
        objects,
        notBuilt: plan.notBuilt,
        homes: Object.fromEntries(plan.objects.map((o) => [o.object, o.home])),
        preDir,
        postDir,
        timingsMs: progress.timings
      };
    },
    log
  );
}
async function dropObjectsNotDependingOnTheirHeaders(tree, planned) {
  const kept = [];
  for (const entry of planned) {
    for (const reason of entry.because) {
      if (objectOf(reason) === entry.object || await objectDependsOn(tree, entry.object, reason)) {
        kept.push(entry.object);
        break;
      }
    }
  }
  return kept;
}
async function buildObjects(tree, objects, jobs, progress) {
  if (objects.length === 0) return;
  const make = (j) => run("make", [...kbuildArgs(tree, j), ...objects], {
    onLine: (line) => /\b(warning|error):/i.test(line) ? progress.info(line.trim()) : progress.heartbeat(line)
  });
  if (jobs === 1) return void await make(1);
  try {
    await make(jobs);
  } catch (e) {
    if (!(e instanceof CommandError) || e.exitCode === null) throw e;
    progress.info(`the parallel build failed (exit ${e.exitCode}); building again with one job`);
    await make(1);
  }
}
async function removeObjects(tree, objects) {
  for (const object of objects) await rm2(path6.join(tree, object), { force: true });
}
async function collectObjects(tree, objects, dest) {
  for (const object of objects) {
    await mkdir2(path6.dirname(path6.join(dest, object)), { recursive: true });
    await copyFile(path6.join(tree, object), path6.join(dest, object));
  }
}

// src/create/kernel-inputs.ts
import { readFile as readFile5, stat } from "node:fs/promises";
import path7 from "node:path";
var BadInputError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "BadInputError";
  }
};
async function exists(file) {
  return stat(file).then(
    () => true,
    () => false
  );
}
async function utsRelease(dir) {
  const text = await readFile5(path7.join(dir, "include/generated/utsrelease.h"), "utf8").catch(() => null);
  return text ? /UTS_RELEASE "([^"]+)"/.exec(text)?.[1] ?? null : null;
}
async function resolveKernelInputs(sourceDir, configDir = path7.join(sourceDir, "ksplice")) {
  if (!await exists(path7.join(sourceDir, "Makefile")) || !await exists(path7.join(sourceDir, "kernel"))) {
    throw new BadInputError(`${sourceDir} is not a kernel source tree (no Makefile and kernel/)`);
  }
  const config = path7.join(configDir, ".config");
  const systemMap = path7.join(configDir, "System.map");
  const headersDir = path7.join(configDir, "build");
  const missing = [];
  if (!await exists(config)) missing.push(`${config} (cp /boot/config-$(uname -r) ${config})`);
  if (!await exists(systemMap)) missing.push(`${systemMap} (the real System.map of the running kernel)`);
  if (!await exists(path7.join(headersDir, "Makefile")))
    missing.push(`${headersDir} (ln -s /lib/modules/$(uname -r)/build ${headersDir})`);
  if (missing.length > 0) throw new BadInputError(`missing in the config directory:
  ${missing.join("\n  ")}`);
  const symbols = await readSystemMap(systemMap).catch((e) => {
    throw new BadInputError(e.message);
  });
  const release = await utsRelease(headersDir);
  if (!release) throw new BadInputError(`${headersDir} has no include/generated/utsrelease.h: not the headers of a built kernel`);
  const treeConfig = await readFile5(path7.join(sourceDir, ".config"), "utf8").catch(() => null);
  if (treeConfig === null)
    throw new BadInputError(
      `${sourceDir} has no .config: cp ${config} ${sourceDir}/.config and run make olddefconfig prepare modules_prepare`
    );
  if (treeConfig !== await readFile5(config, "utf8")) {
    throw new BadInputError(`${sourceDir}/.config differs from ${config}: the tree must be configured as the running kernel`);
  }
  const treeRelease = await utsRelease(sourceDir);
  if (treeRelease === null) throw new BadInputError(`${sourceDir} is not prepared: run make olddefconfig prepare modules_prepare`);
  if (treeRelease !== release) {
    throw new BadInputError(`kernel release mismatch: the source tree builds ${treeRelease}, the headers are for ${release}`);
  }
  const vmlinux = path7.join(configDir, "vmlinux");
  const modulesDir = path7.join(configDir, "modules");
  return {
    sourceDir,
    configDir,
    config,
    systemMap,
    headersDir,
    release,
    symbols,
    vmlinux: await exists(vmlinux) ? vmlinux : void 0,
    modulesDir: await exists(path7.join(modulesDir, "modules.order")) ? modulesDir : void 0
  };
}

// src/create/object-module.ts
import { readFile as readFile6 } from "node:fs/promises";
import path8 from "node:path";
function kbuildModuleName(cmdText) {
  return /-DKBUILD_MODNAME='"([^"']+)"'/.exec(cmdText)?.[1] ?? null;
}
async function moduleOfObject(tree, object, home) {
  if (home === "vmlinux") return "vmlinux";
  const cmdFile = path8.join(tree, path8.dirname(object), `.${path8.basename(object)}.cmd`);
  const name = kbuildModuleName(await readFile6(cmdFile, "utf8"));
  if (!name) throw new Error(`${cmdFile} defines no KBUILD_MODNAME: cannot tell which module ${object} is part of`);
  return name;
}

// src/create/outcome.ts
function exitCodeOf(outcome) {
  return OUTCOME_EXIT_CODES[outcome.outcome];
}
var NOT_COMPILED = ": not compiled in the configuration of ";
function notCompiledNote(file, release) {
  return `${file}${NOT_COMPILED}${release}`;
}
function outcomeMessage(o) {
  switch (o.outcome) {
    case "built":
      return `Ksplice update tarball written to ${o.tarball}`;
    case "analyzed":
      return `Analysis only: update ${o.id} would replace ${o.changed.map((c) => c.function).join(", ")}`;
    case "no-changes": {
      const notCompiled = o.notes.filter((n) => n.includes(NOT_COMPILED));
      return notCompiled.length > 0 ? `No changes detected (${notCompiled.join("; ")})` : "No changes detected";
    }
    case "unsafe":
      return `the patch cannot be applied safely without custom code:
${o.unsafe.map((f) => `  ${describeFinding(f)}`).join("\n")}`;
  }
}
var OUTCOME_KINDS = Object.keys(OUTCOME_EXIT_CODES);
function outcomeToJson(o) {
  const findings = (list) => list.map(({ rule, symbol, reason, acceptable }) => ({ rule, symbol, reason, acceptable }));
  return JSON.stringify({
    outcome: o.outcome,
    id: o.id,
    tarball: o.tarball,
    kernelRelease: o.kernelRelease,
    changed: o.changed,
    new: o.new,
    unsafe: findings(o.unsafe),
    accepted: findings(o.accepted),
    notes: o.notes,
    reproduction: o.reproduction,
    timingsMs: o.timingsMs
  });
}

// src/x86/relocation-values.ts
var MASK64 = (1n << 64n) - 1n;
function signExtend32(value) {
  return value >= 0x80000000n ? value - 0x100000000n : value;
}
function impliedSymbolValue(type, stored, place, addend) {
  switch (type) {
    case R_X86_64_PC32:
    case R_X86_64_PLT32:
      return place + signExtend32(stored) - addend & MASK64;
    case R_X86_64_32S:
      return signExtend32(stored) - addend & MASK64;
    case R_X86_64_32:
      return stored - addend & MASK64;
    case R_X86_64_64:
      return stored - addend & MASK64;
    case R_X86_64_PC64:
      return place + stored - addend & MASK64;
    default:
      throw new Error(`relocation type ${type} has no x86-64 value rule`);
  }
}
function relocationResult(type, symbolValue, place, addend) {
  switch (type) {
    case R_X86_64_PC32:
    case R_X86_64_PLT32:
    case R_X86_64_PC64:
      return symbolValue + addend - place & MASK64;
    case R_X86_64_32S:
    case R_X86_64_32:
    case R_X86_64_64:
      return symbolValue + addend & MASK64;
    default:
      throw new Error(`relocation type ${type} has no x86-64 value rule`);
  }
}

// src/create/reproduction-check.ts
function hasCode(sym) {
  return isFunction(sym) && sym.size > 0 && sym.section !== null && isExecutable(sym.section);
}
function hex(n) {
  return `0x${n.toString(16)}`;
}
function anchorsOf(obj, section) {
  return obj.symbols.filter((s) => s.section === section && s.name !== "" && !isSectionSymbol(s) && s.shndx !== SHN_ABS);
}
function cString(data, offset) {
  const end = data.indexOf(0, offset);
  return data.toString("latin1", offset, end === -1 ? data.length : end);
}
function relocationProblem(ctx, rela, place, stored) {
  const implied = impliedSymbolValue(rela.type, stored, place, rela.addend);
  const sym = rela.symbol;
  const section = sym.section;
  if (!isSectionSymbol(sym)) {
    const candidates = ctx.map.addresses(sym.name);
    if (candidates.length === 0) return learn(ctx, `symbol ${sym.name}`, implied);
    return candidates.includes(implied) ? null : `${relocationName(rela.type)} to ${sym.name}: the shipped code refers to ${hex(implied)}, System.map has ${sym.name} at ${candidates.map(hex).join(", ")}`;
  }
  if (!section) return `relocation against an undefined section symbol`;
  if (isMergeStrings(section)) {
    const offset = relocationTarget(rela.type, rela.addend, true);
    const expected = cString(section.data, offset);
    const pointed = implied + BigInt(offset);
    const shipped = ctx.kernel.stringAt(pointed);
    return shipped === expected ? null : `string reference: the build has ${JSON.stringify(expected)}, the shipped code points at ${shipped === null ? "nothing" : JSON.stringify(shipped)}`;
  }
  for (const anchor of anchorsOf(ctx.obj, section)) {
    const candidates = ctx.map.addresses(anchor.name);
    if (candidates.length === 0) continue;
    const bases = candidates.map((a) => a - BigInt(anchor.value));
    return bases.includes(implied) ? null : `${relocationName(rela.type)} to section ${section.name}: the shipped code refers to ${hex(implied)}, where System.map puts it at ${bases.map(hex).join(", ")} (through ${anchor.name})`;
  }
  return learn(ctx, `section ${section.name}`, implied);
}
function learn(ctx, key, value) {
  const known = ctx.learned.get(key);
  if (known === void 0) {
    ctx.learned.set(key, value);
    return null;
  }
  return known === value ? null : `references to ${key} disagree: ${hex(known)} and ${hex(value)}`;
}
function readStored(bytes, offset, width) {
  let value = 0n;
  for (let i = width - 1; i >= 0; i--) value = value << 8n | BigInt(bytes[offset + i]);
  return value;
}
function firstDifference(ctx, fn, address) {
  const section = fn.section;
  const code = section.data.subarray(fn.value, fn.value + fn.size);
  const shipped = ctx.kernel.bytesAt(address, code.length);
  if (!shipped) return { offset: 0, reason: `System.map address ${hex(address)} is outside the shipped vmlinux` };
  const covered = new Uint8Array(code.length);
  const problems = [];
  for (const rela of relaFor(ctx.obj, section)?.entries ?? []) {
    const offset = rela.offset - fn.value;
    if (offset < 0 || offset >= code.length || rela.type === R_X86_64_NONE) continue;
    const width = relocationWidth(rela.type);
    covered.fill(1, offset, offset + width);
    const problem = relocationProblem(ctx, rela, address + BigInt(offset), readStored(shipped, offset, width));
    if (problem) problems.push({ offset, reason: problem });
  }
  for (let i = 0; i < code.length; i++) {
    if (!covered[i] && code[i] !== shipped[i]) {
      problems.push({ offset: i, reason: `byte ${hex(i)} is ${hex(code[i])} in the build, ${hex(shipped[i])} in the shipped kernel` });
      break;
    }
  }
  problems.sort((a, b) => a.offset - b.offset);
  return problems[0] ?? null;
}
function checkReproduction(obj, objectName, map, kernel) {
  const report = { checked: [], notInKernel: [], overriddenWeak: [], mismatches: [] };
  for (const fn of obj.symbols.filter(hasCode)) {
    const candidates = map.addresses(fn.name);
    if (candidates.length === 0) {
      report.notInKernel.push(fn.name);
      continue;
    }
    let best = null;
    let matched = null;
    for (const address of candidates) {
      const ctx = { obj, map, kernel, learned: /* @__PURE__ */ new Map() };
      const difference = firstDifference(ctx, fn, address);
      if (!difference) {
        matched = address;
        break;
      }
      if (!best || difference.offset > best.difference.offset) best = { address, difference };
    }
    if (matched !== null) report.checked.push({ object: objectName, function: fn.name, address: matched });
    else if (fn.bind === STB_WEAK) report.overriddenWeak.push(fn.name);
    else if (best)
      report.mismatches.push({ object: objectName, function: fn.name, offset: best.difference.offset, reason: best.difference.reason });
  }
  return report;
}

// src/create/shipped-kernel.ts
import { readFile as readFile7 } from "node:fs/promises";
var PT_LOAD = 1;
function parseShippedKernel(file) {
  if (file.length < 64 || file.readUInt32BE(0) !== 2135247942 || file[4] !== 2 || file[5] !== 1) {
    throw new Error("the shipped vmlinux is not a little-endian ELF64 file");
  }
  const phoff = Number(file.readBigUInt64LE(32));
  const phentsize = file.readUInt16LE(54);
  const phnum = file.readUInt16LE(56);
  const segments = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (o + 56 > file.length) throw new Error("the shipped vmlinux has a truncated program header table");
    if (file.readUInt32LE(o) !== PT_LOAD) continue;
    segments.push({
      vaddr: file.readBigUInt64LE(o + 16),
      fileOffset: Number(file.readBigUInt64LE(o + 8)),
      fileSize: Number(file.readBigUInt64LE(o + 32))
    });
  }
  if (segments.length === 0) throw new Error("the shipped vmlinux has no loadable segment");
  const locate = (address, length) => {
    for (const s of segments) {
      if (address < s.vaddr) continue;
      const delta = Number(address - s.vaddr);
      if (delta + length <= s.fileSize) return s.fileOffset + delta;
    }
    return null;
  };
  return shippedImage(file, locate);
}
function shippedImage(file, locate) {
  return {
    bytesAt(address, length) {
      const at = locate(address, length);
      return at === null ? null : file.subarray(at, at + length);
    },
    stringAt(address, max = 4096) {
      const at = locate(address, 1);
      if (at === null) return null;
      const end = file.indexOf(0, at);
      return file.toString("latin1", at, end === -1 ? Math.min(file.length, at + max) : Math.min(end, at + max));
    }
  };
}
async function openShippedKernel(vmlinux) {
  return parseShippedKernel(await readFile7(vmlinux));
}

// src/create/shipped-module.ts
import { readFile as readFile8 } from "node:fs/promises";
import path9 from "node:path";
var MODULE_BASE = 0xffffffffc0000000n;
var EXTERNAL_BASE = 0xffffffffb0000000n;
var EXTERNAL_STRIDE = 0x10n;
function alignUp(value, align) {
  return align > 1n ? (value + align - 1n) / align * align : value;
}
function linkShippedModule(ko) {
  const base = /* @__PURE__ */ new Map();
  let end = MODULE_BASE;
  for (const section of ko.sections) {
    if ((section.flags & SHF_ALLOC) === 0n) continue;
    end = alignUp(end, section.addralign);
    base.set(section, end);
    end += BigInt(section.size);
  }
  const image = Buffer.alloc(Number(end - MODULE_BASE));
  for (const [section, at] of base) {
    if (section.type !== SHT_NOBITS) section.data.copy(image, Number(at - MODULE_BASE));
  }
  const externals = /* @__PURE__ */ new Map();
  const valueOf = (sym) => {
    if (sym.shndx === SHN_ABS) return BigInt(sym.value);
    if (sym.section && base.has(sym.section)) return base.get(sym.section) + BigInt(sym.value);
    let at = externals.get(sym.name);
    if (at === void 0) {
      at = EXTERNAL_BASE + BigInt(externals.size) * EXTERNAL_STRIDE;
      externals.set(sym.name, at);
    }
    return at;
  };
  const symbols = [];
  const functions = /* @__PURE__ */ new Map();
  for (const sym of ko.symbols) {
    if (sym.name === "" || sym.type === STT_SECTION || sym.type === STT_FILE) continue;
    symbols.push({ address: valueOf(sym), type: sym.section ? "t" : "U", name: sym.name });
    if (sym.type === STT_FUNC && sym.section) functions.set(sym.name, [...functions.get(sym.name) ?? [], valueOf(sym)]);
  }
  for (const [section, at] of base) {
    for (const rela of relaFor(ko, section)?.entries ?? []) {
      if (rela.type === R_X86_64_NONE) continue;
      const place = at + BigInt(rela.offset);
      const width = relocationWidth(rela.type);
      let value = relocationResult(rela.type, valueOf(rela.symbol), place, rela.addend);
      const offset = Number(place - MODULE_BASE);
      for (let i = 0; i < width; i++, value >>= 8n) image[offset + i] = Number(value & 0xffn);
    }
  }
  const locate = (address, length) => {
    if (address < MODULE_BASE || address + BigInt(length) > end) return null;
    return Number(address - MODULE_BASE);
  };
  const kernel = shippedImage(image, locate);
  return { kernel, map: new SystemMapIndex(symbols), functionAddresses: (name) => functions.get(name) ?? [] };
}
function moduleInfo(ko) {
  const info = /* @__PURE__ */ new Map();
  const section = ko.sections.find((s) => s.name === ".modinfo");
  for (const entry of section?.data.toString("latin1").split("\0") ?? []) {
    const eq = entry.indexOf("=");
    if (eq > 0 && !info.has(entry.slice(0, eq))) info.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return info;
}
function checkShippedModuleFor(release, module, info, where) {
  const vermagic = info.get("vermagic");
  if (vermagic === void 0) throw new Error(`${module}.ko (${where}) has no vermagic: not a kernel module of ${release}`);
  if (vermagic.split(" ")[0] !== release)
    throw new Error(
      `${module}.ko (${where}) was built for kernel ${vermagic.split(" ")[0]} (vermagic '${vermagic.trim()}'), not ${release}`
    );
}
async function shippedModulePath(modulesDir, module) {
  const order = await readFile8(path9.join(modulesDir, "modules.order"), "utf8").catch(() => {
    throw new Error(`no modules.order in ${modulesDir}: the shipped modules are needed to check a module's pre build`);
  });
  const wanted = module.replace(/-/g, "_");
  const entry = order.split("\n").find((line) => path9.basename(line, ".ko").replace(/-/g, "_") === wanted);
  if (!entry) throw new Error(`module ${module} is not among the shipped modules of ${modulesDir} (modules.order)`);
  return path9.join(modulesDir, entry);
}

// src/package/update-tarball.ts
import { createHash as createHash2 } from "node:crypto";

// src/package/tar.ts
import { gunzipSync, gzipSync } from "node:zlib";
var TarballError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "TarballError";
  }
};
var BLOCK = 512;
var MAX_UNPACKED_BYTES = 256 * 1024 * 1024;
function octal(value, width) {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}
function splitName(name) {
  if (Buffer.byteLength(name) <= 100) return { prefix: "", name };
  for (let i = name.lastIndexOf("/"); i > 0; i = name.lastIndexOf("/", i - 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100) return { prefix, name: rest };
  }
  throw new TarballError(`path too long for a ustar tarball: ${name}`);
}
function header(name, size, mode, type) {
  const block = Buffer.alloc(BLOCK);
  const parts = splitName(name);
  block.write(parts.name, 0, 100);
  block.write(octal(mode, 8), 100);
  block.write(octal(0, 8), 108);
  block.write(octal(0, 8), 116);
  block.write(octal(size, 12), 124);
  block.write(octal(0, 12), 136);
  block.write("        ", 148);
  block.write(type, 156);
  block.write("ustar\0", 257);
  block.write("00", 263);
  block.write("root", 265);
  block.write("root", 297);
  block.write(parts.prefix, 345, 155);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + " ", 148);
  return block;
}
function checkEntryPath(path18) {
  if (!isSafeRelativePath(path18)) throw new TarballError(`unsafe path in tarball: '${path18}'`);
}
function isSafeRelativePath(path18) {
  if (path18 === "" || path18.startsWith("/") || /[\\\0]/.test(path18)) return false;
  return path18.replace(/\/$/, "").split("/").every((c) => c !== "" && c !== "." && c !== "..");
}
function writeTarGz(entries) {
  const files = [...entries].sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  const dirs = /* @__PURE__ */ new Set();
  for (const file of files) {
    checkEntryPath(file.path);
    const parts = file.path.split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/") + "/");
  }
  const seen = /* @__PURE__ */ new Set();
  const blocks = [];
  const all = [...[...dirs].map((d) => ({ path: d, dir: true })), ...files.map((f) => ({ ...f, dir: false }))].sort(
    (a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0
  );
  for (const entry of all) {
    if (seen.has(entry.path)) throw new TarballError(`duplicate tarball entry: ${entry.path}`);
    seen.add(entry.path);
    if (entry.dir) {
      blocks.push(header(entry.path, 0, 493, "5"));
      continue;
    }
    blocks.push(header(entry.path, entry.data.length, entry.executable ? 493 : 420, "0"));
    blocks.push(entry.data);
    const pad = (BLOCK - entry.data.length % BLOCK) % BLOCK;
    if (pad) blocks.push(Buffer.alloc(pad));
  }
  blocks.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(blocks), { level: 9 });
}

// src/package/update-tarball.ts
var MANIFEST_FORMAT = 1;
function updateIdFor(...inputs) {
  const hash = createHash2("sha256");
  for (const input of inputs) hash.update(input).update("\0");
  return BigInt(`0x${hash.digest("hex").slice(0, 16)}`).toString(36).padStart(8, "0").slice(-8);
}
function isValidUpdateId(id) {
  return /^[a-z0-9][a-z0-9_-]{0,31}$/.test(id);
}
function sha256(data) {
  return createHash2("sha256").update(data).digest("hex");
}
function formatManifest(manifest) {
  const { files, ...rest } = manifest;
  const head = JSON.stringify(rest, null, 2).replace(/\n}$/, "");
  const lines = files.map((f) => `    ${JSON.stringify({ path: f.path, sha256: f.sha256 }).replace(/,/g, ", ").replace(/":/g, '": ')}`);
  return `${head},
  "files": [
${lines.join(",\n")}
  ]
}
`;
}
function writeUpdateTarball(fields, files) {
  if (!isValidUpdateId(fields.id)) throw new TarballError(`invalid update id '${fields.id}' (lowercase letters, digits, _ and -)`);
  const sorted = [...files].sort((a, b) => a.path < b.path ? -1 : 1);
  const manifest = {
    formatVersion: MANIFEST_FORMAT,
    ...fields,
    files: sorted.map((f) => ({ path: f.path, sha256: sha256(f.data) }))
  };
  const top = `ksplice-${fields.id}`;
  const entries = [
    { path: `${top}/manifest.json`, data: Buffer.from(formatManifest(manifest)) },
    ...sorted.map((f) => ({ path: `${top}/${f.path}`, data: f.data, executable: f.executable }))
  ];
  return writeTarGz(entries);
}

// src/create/update-module.ts
import { readFile as readFile10, writeFile as writeFile3, mkdir as mkdir3 } from "node:fs/promises";
import path11 from "node:path";

// src/diff/extract.ts
var ExtractError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "ExtractError";
  }
};
function extractFunctions(obj, names, options = {}) {
  return new Extractor(obj, options.correlation).run(names, options.data ?? []);
}
var Extractor = class {
  constructor(obj, correlation) {
    this.obj = obj;
    this.correlation = correlation;
    this.index = new ObjectIndex(obj);
  }
  obj;
  correlation;
  index;
  sections = [];
  symbols = [];
  relas = /* @__PURE__ */ new Map();
  /** Original definition → its copy. */
  copies = /* @__PURE__ */ new Map();
  externals = /* @__PURE__ */ new Map();
  stringSections = /* @__PURE__ */ new Map();
  sectionSymbols = /* @__PURE__ */ new Map();
  specialCopies = /* @__PURE__ */ new Map();
  constantPools = /* @__PURE__ */ new Map();
  /** The running kernel's name for a symbol of this object (its pre partner's, when known). */
  kernelName(sym) {
    return this.correlation?.postToPre.get(sym)?.name ?? sym.name;
  }
  run(names, dataNames) {
    const functions = this.withColdParts(names.map((n) => this.definition(n, "function")));
    const data = dataNames.map((n) => this.definition(n, "data"));
    for (const def of [...functions, ...data]) this.copyDefinition(def);
    for (const def of [...functions, ...data]) this.copyRelocations(def);
    this.copySpecialEntries(functions);
    this.sections.push(newSection({ name: ".note.GNU-stack", type: SHT_PROGBITS }));
    for (const [target, entries] of this.relas) {
      this.sections.push(
        newSection({
          name: `.rela${target.name}`,
          type: SHT_RELA,
          flags: SHF_INFO_LINK,
          addralign: 8n,
          entsize: 24n,
          rela: { target, entries }
        })
      );
    }
    return {
      header: { ...this.obj.header },
      sections: this.sections,
      symbols: [...this.symbols, ...[...this.externals.values()].map((e) => e.symbol)],
      externals: [...this.externals.values()].map((e) => e.ref)
    };
  }
  definition(name, kind) {
    const list = kind === "function" ? this.index.functions : this.index.dataObjects;
    const sym = list.find((s) => s.name === name);
    if (!sym) throw new ExtractError(`no ${kind} named '${name}' in the object`);
    return sym;
  }
  /** A function's `.cold` fragment is part of its code: `foo` brings `foo.cold`. */
  withColdParts(functions) {
    const wanted = new Set(functions.map((f) => f.name));
    const cold = this.index.functions.filter((f) => isColdPart(f.name) && wanted.has(coldOwner(f.name)) && !wanted.has(f.name));
    return [...functions, ...cold];
  }
  /** The section name for a copy: the original when the definition had it to itself. */
  copyDefinition(def) {
    const from = def.section;
    const alone = this.index.definitionsIn(from).filter((s) => s.type === def.type).length === 1;
    const section = newSection({
      name: alone ? from.name : `${from.name}.${def.name}`,
      type: from.type,
      flags: from.flags & ~SHF_GROUP,
      addralign: from.addralign,
      entsize: from.entsize,
      data: from.type === SHT_NOBITS ? Buffer.alloc(0) : Buffer.from(symbolBytes(def)),
      size: def.size
    });
    this.sections.push(section);
    const copy = { ...def, index: 0, section, value: 0 };
    this.symbols.push(copy);
    this.copies.set(def, copy);
  }
  copyRelocations(def) {
    const copy = this.copies.get(def);
    for (const rela of this.index.relocationsIn(def.section, def.value, def.size)) {
      this.addRela(copy.section, { ...this.retarget(rela, def.section), offset: rela.offset - def.value, type: rela.type });
    }
  }
  addRela(section, rela) {
    const list = this.relas.get(section);
    if (list) list.push(rela);
    else this.relas.set(section, [rela]);
  }
  /**
   * The symbol and addend a copied relocation uses.
   *
   * Example: `call helper` (PLT32 `.text.helper`-4, helper static and not copied) → PLT32
   * undefined `helper`-4, external {helper, local}. `lea .LC3-4(%rip)` → PC32 to a label on the
   * copied string, -4.
   */
  retarget(rela, from) {
    const ref = this.index.referent(rela, from);
    switch (ref.kind) {
      case "symbol": {
        const copy = this.copies.get(ref.symbol);
        if (copy) return { symbol: copy, addend: ref.offset };
        const kind = isFunction(ref.symbol) ? "function" : "data";
        return { symbol: this.external(this.kernelName(ref.symbol), ref.symbol.bind, ref.symbol.type, kind), addend: ref.offset };
      }
      case "string":
        return { symbol: this.stringLabel(ref.section, ref.text), addend: ref.offset };
      case "section":
        if (isMergeConstants(ref.section)) return { symbol: this.sectionSymbol(this.constantPool(ref.section)), addend: ref.offset };
        return { symbol: this.external(ref.section.name, STB_LOCAL, STT_NOTYPE, "section"), addend: ref.offset };
      case "external":
        return { symbol: this.external(ref.symbol.name, ref.symbol.bind, ref.symbol.type, "other"), addend: ref.offset };
    }
  }
  external(name, bind, type, kind) {
    let e = this.externals.get(name);
    if (!e) {
      const symbol = {
        index: 0,
        name,
        bind: bind === STB_WEAK ? STB_WEAK : STB_GLOBAL,
        type: kind === "section" ? STT_NOTYPE : type,
        other: 0,
        section: null,
        shndx: 0,
        value: 0,
        size: 0
      };
      e = { symbol, ref: { name, local: bind === STB_LOCAL, kind } };
      this.externals.set(name, e);
    }
    return e.symbol;
  }
  /** A local label on a copy of the string, in a string section like the original (kept mergeable). */
  stringLabel(original, text) {
    let strings = this.stringSections.get(original);
    if (!strings) {
      const section = newSection({
        name: original.name,
        type: original.type,
        flags: original.flags & ~SHF_GROUP,
        addralign: original.addralign,
        entsize: original.entsize
      });
      this.sections.push(section);
      strings = { section, labels: /* @__PURE__ */ new Map() };
      this.stringSections.set(original, strings);
    }
    let label = strings.labels.get(text);
    if (!label) {
      const section = strings.section;
      const value = section.data.length;
      const width = Math.max(1, Number(original.entsize));
      const bytes = Buffer.concat([Buffer.from(text, "latin1"), Buffer.alloc(width)]);
      section.data = Buffer.concat([section.data, bytes]);
      section.size = section.data.length;
      label = {
        index: 0,
        name: `.LC${this.symbols.length}`,
        bind: STB_LOCAL,
        type: STT_NOTYPE,
        other: 0,
        section,
        shndx: 0,
        value,
        size: 0
      };
      this.symbols.push(label);
      strings.labels.set(text, label);
    }
    return label;
  }
  /**
   * A whole copy of a literal-constant pool the code reads: constants have no identity, so the
   * update may carry its own, and a copy that keeps every offset needs no guess at which entry a
   * PC-relative displacement means.
   *
   * Example: hrtimer_nanosleep_restart's `movzwl .LC2(%rip),%edx` (PC32 `.LC2`-4, a label at
   * `.rodata.cst2`+0) → PC32 to the copied `.rodata.cst2` + 0 - 4.
   */
  constantPool(original) {
    let copy = this.constantPools.get(original);
    if (!copy) {
      copy = newSection({
        name: original.name,
        type: original.type,
        flags: original.flags & ~SHF_GROUP,
        addralign: original.addralign,
        entsize: original.entsize,
        data: Buffer.from(original.data),
        size: original.data.length
      });
      this.constantPools.set(original, copy);
      this.sections.push(copy);
    }
    return copy;
  }
  sectionSymbol(section) {
    let sym = this.sectionSymbols.get(section);
    if (!sym) {
      sym = { index: 0, name: "", bind: STB_LOCAL, type: STT_SECTION, other: 0, section, shndx: 0, value: 0, size: 0 };
      this.sectionSymbols.set(section, sym);
      this.symbols.push(sym);
    }
    return sym;
  }
  specialCopy(original) {
    let copy = this.specialCopies.get(original.name);
    if (!copy) {
      copy = newSection({
        name: original.name,
        type: original.type,
        flags: original.flags & ~SHF_GROUP,
        addralign: original.addralign,
        entsize: original.entsize
      });
      this.specialCopies.set(original.name, copy);
      this.sections.push(copy);
    }
    return copy;
  }
  append(section, bytes) {
    const align = Math.max(1, Number(section.addralign));
    const start = Math.ceil(section.data.length / align) * align;
    section.data = Buffer.concat([section.data, Buffer.alloc(start - section.data.length), bytes]);
    section.size = section.data.length;
    return start;
  }
  /**
   * The entries of the special sections that describe copied functions, in their original order
   * (which keeps `.orc_unwind` entry i paired with `.orc_unwind_ip` entry i).
   */
  copySpecialEntries(functions) {
    const byFunction = specialEntriesByFunction(this.index);
    const chosen = /* @__PURE__ */ new Map();
    for (const fn of functions) {
      for (const e of byFunction.get(fn) ?? []) chosen.set(e.section, [...chosen.get(e.section) ?? [], e]);
    }
    for (const [original, entries] of chosen) {
      entries.sort((a, b) => a.index - b.index);
      const layout = specialSectionLayout(original.name);
      const copy = this.specialCopy(original);
      for (const e of entries) {
        const bytes = Buffer.alloc(layout.entrySize);
        original.data.copy(bytes, 0, e.start, Math.min(e.start + layout.entrySize, original.size));
        const start = this.append(copy, bytes);
        for (const rela of this.index.relocationsIn(original, e.start, layout.entrySize)) {
          const fieldOffset = rela.offset - e.start;
          const target = layout.payload?.field === fieldOffset ? this.copyPayload(original, e, rela) : this.retarget(rela, original);
          this.addRela(copy, { ...target, offset: start + fieldOffset, type: rela.type });
        }
      }
    }
  }
  /** An alternative's replacement code, copied into our own `.altinstr_replacement`. */
  copyPayload(original, entry, rela) {
    const payload = entry.layout.payload;
    const from = rela.symbol.section;
    if (!from) return this.retarget(rela, original);
    const start = rela.symbol.value + Number(rela.addend);
    const length = original.data[entry.start + payload.lengthOffset];
    const copy = this.specialCopy(from);
    const at = this.append(copy, Buffer.from(from.data.subarray(start, start + length)));
    for (const inner of this.index.relocationsIn(from, start, length)) {
      this.addRela(copy, { ...this.retarget(inner, from), offset: at + inner.offset - start, type: inner.type });
    }
    return { symbol: this.sectionSymbol(copy), addend: BigInt(at) };
  }
};

// src/elf/writer.ts
var EHDR_SIZE = 64;
var SHDR_SIZE = 64;
var SYM_SIZE = 24;
var RELA_SIZE = 24;
var StringTable = class {
  offsets = /* @__PURE__ */ new Map([["", 0]]);
  parts = [Buffer.from([0])];
  length = 1;
  add(s) {
    let off = this.offsets.get(s);
    if (off === void 0) {
      off = this.length;
      const bytes = Buffer.from(s + "\0", "utf8");
      this.parts.push(bytes);
      this.length += bytes.length;
      this.offsets.set(s, off);
    }
    return off;
  }
  toBuffer() {
    return Buffer.concat(this.parts, this.length);
  }
};
function writeElf(obj) {
  const symbols = [...obj.symbols.filter((s) => s.bind === STB_LOCAL), ...obj.symbols.filter((s) => s.bind !== STB_LOCAL)];
  const firstGlobal = 1 + symbols.filter((s) => s.bind === STB_LOCAL).length;
  const symbolIndex = /* @__PURE__ */ new Map([[NULL_SYMBOL, 0]]);
  symbols.forEach((s, i) => symbolIndex.set(s, i + 1));
  const indexOfSymbol = (s, user) => {
    const i = symbolIndex.get(s);
    if (i === void 0) throw new ElfFormatError(`${user} refers to symbol '${s.name}', which is not in the object's symbol list`);
    return i;
  };
  const sectionIndex = /* @__PURE__ */ new Map();
  obj.sections.forEach((s, i) => sectionIndex.set(s, i + 1));
  const indexOfSection = (s, user) => {
    const i = sectionIndex.get(s);
    if (i === void 0) throw new ElfFormatError(`${user} refers to section '${s.name}', which is not in the object`);
    return i;
  };
  const symtabIndex = obj.sections.length + 1;
  const needsXindex = obj.sections.length + 4 >= SHN_LORESERVE;
  const strtabIndex = symtabIndex + 1;
  const xindexIndex = needsXindex ? strtabIndex + 1 : -1;
  const shstrtabIndex = (needsXindex ? xindexIndex : strtabIndex) + 1;
  const shnum = shstrtabIndex + 1;
  const strtab = new StringTable();
  const symtabData = Buffer.alloc((symbols.length + 1) * SYM_SIZE);
  const xindexData = needsXindex ? Buffer.alloc((symbols.length + 1) * 4) : null;
  symbols.forEach((s, i) => {
    const o = (i + 1) * SYM_SIZE;
    symtabData.writeUInt32LE(strtab.add(s.name), o);
    symtabData[o + 4] = s.bind << 4 | s.type & 15;
    symtabData[o + 5] = s.other;
    let shndx = s.section ? indexOfSection(s.section, `symbol '${s.name}'`) : s.shndx;
    if (s.section && shndx >= SHN_LORESERVE) {
      xindexData.writeUInt32LE(shndx, (i + 1) * 4);
      shndx = SHN_XINDEX;
    }
    symtabData.writeUInt16LE(shndx, o + 6);
    symtabData.writeBigUInt64LE(BigInt(s.value), o + 8);
    symtabData.writeBigUInt64LE(BigInt(s.size), o + 16);
  });
  const shstrtab = new StringTable();
  const out = obj.sections.map((section) => {
    let data = section.data;
    let link = section.link;
    let info = section.info;
    let entsize = section.entsize;
    if (section.type === SHT_RELA && section.rela) {
      const { target, entries } = section.rela;
      data = Buffer.alloc(entries.length * RELA_SIZE);
      entries.forEach((r, k) => {
        const o = k * RELA_SIZE;
        data.writeBigUInt64LE(BigInt(r.offset), o);
        data.writeUInt32LE(r.type, o + 8);
        data.writeUInt32LE(indexOfSymbol(r.symbol, `${section.name} entry ${k}`), o + 12);
        data.writeBigInt64LE(r.addend, o + 16);
      });
      link = symtabIndex;
      info = indexOfSection(target, section.name);
      entsize = BigInt(RELA_SIZE);
    } else if (section.type === SHT_GROUP && section.group) {
      const { flags, signature, members } = section.group;
      data = Buffer.alloc(4 + members.length * 4);
      data.writeUInt32LE(flags, 0);
      members.forEach((m, k) => data.writeUInt32LE(indexOfSection(m, `group ${section.name}`), 4 + k * 4));
      link = symtabIndex;
      info = indexOfSymbol(signature, `group ${section.name}`);
      entsize = 4n;
    } else if (section.linkTo) {
      link = indexOfSection(section.linkTo, `${section.name} sh_link`);
    }
    return { section, nameOffset: shstrtab.add(section.name), data, link, info, offset: 0, entsize };
  });
  const synthetic = (name, type, data, link, info, align, entsize) => ({
    section: { index: 0, name, type, flags: 0n, addr: 0n, addralign: align, entsize, data, size: data.length, link, info },
    nameOffset: shstrtab.add(name),
    data,
    link,
    info,
    offset: 0,
    entsize
  });
  out.push(synthetic(".symtab", SHT_SYMTAB, symtabData, strtabIndex, firstGlobal, 8n, BigInt(SYM_SIZE)));
  out.push(synthetic(".strtab", SHT_STRTAB, strtab.toBuffer(), 0, 0, 1n, 0n));
  if (xindexData) out.push(synthetic(".symtab_shndx", SHT_SYMTAB_SHNDX, xindexData, symtabIndex, 0, 4n, 4n));
  const shstrtabEntry = synthetic(".shstrtab", SHT_STRTAB, Buffer.alloc(0), 0, 0, 1n, 0n);
  out.push(shstrtabEntry);
  shstrtabEntry.data = shstrtab.toBuffer();
  shstrtabEntry.section.size = shstrtabEntry.data.length;
  let cursor = EHDR_SIZE;
  for (const s of out) {
    if (s.section.type === SHT_NOBITS) {
      s.offset = cursor;
      continue;
    }
    const align = Math.max(1, Number(s.section.addralign));
    cursor = Math.ceil(cursor / align) * align;
    s.offset = cursor;
    cursor += s.data.length;
  }
  const shoff = Math.ceil(cursor / 8) * 8;
  const file = Buffer.alloc(shoff + shnum * SHDR_SIZE);
  file.writeUInt32BE(2135247942, 0);
  file[4] = 2;
  file[5] = 1;
  file[6] = 1;
  file[7] = obj.header.osabi;
  file[8] = obj.header.abiversion;
  file.writeUInt16LE(ET_REL, 16);
  file.writeUInt16LE(obj.header.machine, 18);
  file.writeUInt32LE(1, 20);
  file.writeBigUInt64LE(BigInt(shoff), 40);
  file.writeUInt32LE(obj.header.flags, 48);
  file.writeUInt16LE(EHDR_SIZE, 52);
  file.writeUInt16LE(SHDR_SIZE, 58);
  file.writeUInt16LE(shnum >= SHN_LORESERVE ? 0 : shnum, 60);
  file.writeUInt16LE(shstrtabIndex >= SHN_LORESERVE ? SHN_XINDEX : shstrtabIndex, 62);
  if (shnum >= SHN_LORESERVE) file.writeBigUInt64LE(BigInt(shnum), shoff + 32);
  if (shstrtabIndex >= SHN_LORESERVE) file.writeUInt32LE(shstrtabIndex, shoff + 40);
  out.forEach((s, i) => {
    const o = shoff + (i + 1) * SHDR_SIZE;
    const sec = s.section;
    file.writeUInt32LE(s.nameOffset, o);
    file.writeUInt32LE(sec.type, o + 4);
    file.writeBigUInt64LE(sec.flags, o + 8);
    file.writeBigUInt64LE(sec.addr, o + 16);
    file.writeBigUInt64LE(BigInt(s.offset), o + 24);
    file.writeBigUInt64LE(BigInt(sec.type === SHT_NOBITS ? sec.size : s.data.length), o + 32);
    file.writeUInt32LE(s.link, o + 40);
    file.writeUInt32LE(s.info, o + 44);
    file.writeBigUInt64LE(sec.addralign, o + 48);
    file.writeBigUInt64LE(s.entsize, o + 56);
    if (sec.type !== SHT_NOBITS) s.data.copy(file, s.offset);
  });
  return file;
}

// src/kbuild/external-module.ts
import { writeFile as writeFile2 } from "node:fs/promises";
import path10 from "node:path";
async function buildExternalModule(opts) {
  const includes = (opts.includeDirs ?? []).map((d) => `-I${d}`).join(" ");
  const composite = opts.parts.length !== 1 || opts.parts[0] !== `${opts.moduleName}.o`;
  await writeFile2(
    path10.join(opts.dir, "Kbuild"),
    `obj-m := ${opts.moduleName}.o
${composite ? `${opts.moduleName}-y := ${opts.parts.join(" ")}
` : ""}${includes ? `ccflags-y := ${includes}
` : ""}`
  );
  await run("make", [
    "-C",
    opts.headersDir,
    `M=${opts.dir}`,
    ...opts.extraSymbols?.length ? [`KBUILD_EXTRA_SYMBOLS=${opts.extraSymbols.join(" ")}`] : [],
    // the scratch folder's name must not reach the debug info (nor so the build-id): same inputs, same .ko
    `KCFLAGS=-ffile-prefix-map=${opts.dir}=${opts.moduleName}`,
    ...opts.unresolvedAllowed ? ["KBUILD_MODPOST_WARN=1"] : [],
    "modules"
  ]);
  return path10.join(opts.dir, `${opts.moduleName}.ko`);
}

// src/create/klp-relocations.ts
import { readFile as readFile9 } from "node:fs/promises";
var SHN_LIVEPATCH = 65312;
var SHF_RELA_LIVEPATCH = 0x00100000n;
async function readExportOwners(symversFiles) {
  const owners = /* @__PURE__ */ new Map();
  for (const file of symversFiles) {
    for (const line of (await readFile9(file, "utf8")).split("\n")) {
      const [, name, owner] = line.split("	");
      if (name && owner) owners.set(name, owner === "vmlinux" ? "vmlinux" : owner.split("/").pop().replace(/-/g, "_"));
    }
  }
  return owners;
}
function isUndefinedSymbol(sym) {
  return sym.section === null && sym.shndx === 0 && sym.name !== "";
}
function unresolvedNames(obj, exported) {
  return undefinedNames(obj, (name) => !exported.has(name));
}
function undefinedNames(obj, keep) {
  const defined = new Set(obj.symbols.filter((s) => s.section !== null).map((s) => s.name));
  const names = obj.symbols.filter((s) => isUndefinedSymbol(s) && !defined.has(s.name) && keep(s.name)).map((s) => s.name);
  return [...new Set(names)].sort();
}
function klpSymbolName(name, position, object = "vmlinux") {
  return `.klp.sym.${object}.${name},${position}`;
}
var MODULE_REF_PREFIX = "__ksplice_modref.";
function moduleOwnNames(obj, exportOwners, module) {
  return undefinedNames(obj, (name) => {
    const owner = exportOwners.get(name);
    return owner === void 0 || owner === module || name === "__this_module";
  });
}
function renameModuleRefs(obj, names) {
  const wanted = new Set(names);
  for (const sym of obj.symbols) if (isUndefinedSymbol(sym) && wanted.has(sym.name)) sym.name = MODULE_REF_PREFIX + sym.name;
}
function isPlainSection(name) {
  return /^\.(text|rodata|data)(\.|$)/.test(name) && !name.startsWith(".data..percpu");
}
function toModuleKlpRelocations(obj, module, positionOf) {
  const refs = obj.symbols.filter((s) => isUndefinedSymbol(s) && s.name.startsWith(MODULE_REF_PREFIX));
  const refSet = new Set(refs);
  const refused = [];
  for (const section of obj.sections) {
    if (!section.rela || isPlainSection(section.rela.target.name)) continue;
    for (const r of section.rela.entries)
      if (refSet.has(r.symbol)) refused.push({ section: section.rela.target.name, name: r.symbol.name.slice(MODULE_REF_PREFIX.length) });
  }
  if (refused.length > 0) return { made: [], refused };
  const made = [];
  for (const sym of refs) {
    const name = sym.name.slice(MODULE_REF_PREFIX.length);
    sym.name = klpSymbolName(name, positionOf(name), module);
    sym.shndx = SHN_LIVEPATCH;
    made.push(sym.name);
  }
  moveRelocations(obj, refSet, module, SHF_ALLOC);
  return { made, refused };
}
function klpRelaName(target, object = "vmlinux") {
  return `.klp.rela.${object}.${target.name}`;
}
function moveRelocations(obj, symbols, object, extraFlags = 0n) {
  const added = [];
  for (const section of obj.sections) {
    if (!section.rela) continue;
    const moved = section.rela.entries.filter((r) => symbols.has(r.symbol));
    if (moved.length === 0) continue;
    section.rela.entries = section.rela.entries.filter((r) => !symbols.has(r.symbol));
    added.push(
      newSection({
        name: klpRelaName(section.rela.target, object),
        type: SHT_RELA,
        flags: SHF_RELA_LIVEPATCH | SHF_INFO_LINK | extraFlags,
        addralign: 8n,
        entsize: 24n,
        rela: { target: section.rela.target, entries: moved }
      })
    );
  }
  obj.sections.push(...added);
}
function toKlpRelocations(obj, names, positionOf) {
  const wanted = new Set(names);
  const klpSymbols = /* @__PURE__ */ new Set();
  const made = [];
  for (const sym of obj.symbols) {
    if (!isUndefinedSymbol(sym) || !wanted.has(sym.name)) continue;
    const name = klpSymbolName(sym.name, positionOf(sym.name));
    sym.name = name;
    sym.shndx = SHN_LIVEPATCH;
    klpSymbols.add(sym);
    made.push(name);
  }
  moveRelocations(obj, klpSymbols, "vmlinux");
  return made;
}

// src/x86/site-forms.ts
var JMP_REL32 = 233;
var TWO_BYTE_OPCODE = 15;
var CS_PREFIX = 46;
var JMP_REL8 = 235;
var NOP2_FIRST = 102;
var THUNK_REGISTERS = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
function relocationSiteLength(type) {
  return type === R_X86_64_64 || type === R_X86_64_PC64 ? 8 : 4;
}
function isPcRelative32(type) {
  return type === R_X86_64_PC32 || type === R_X86_64_PLT32;
}
function returnThunkLength(firstByte) {
  return firstByte === TWO_BYTE_OPCODE ? 6 : 5;
}
function retpolineSite(code, offset, thunk) {
  const prefix = code[offset] === CS_PREFIX ? 1 : 0;
  const opcode = code[offset + prefix];
  const conditional = opcode === TWO_BYTE_OPCODE;
  const reg = THUNK_REGISTERS.indexOf(thunk.replace("__x86_indirect_thunk_", ""));
  if (reg < 0) throw new Error(`retpoline site at +0x${offset.toString(16)}: unknown thunk '${thunk}'`);
  return { length: prefix + (conditional ? 6 : 5), reg, isJump: conditional || opcode === JMP_REL32 };
}
function isJumpOpcode(firstByte) {
  return firstByte === JMP_REL32;
}
function jumpLabelLength(firstByte) {
  return firstByte === JMP_REL8 || firstByte === NOP2_FIRST ? 2 : 5;
}
var FENTRY_CALL_LENGTH = 5;
var STATIC_CALL_LENGTH = 5;
var PARAVIRT_LENGTH_OFFSET = 9;
var ALT_INSTR = { replOffset: 4, instrLenOffset: 10, replLenOffset: 11 };
var JUMP_ENTRY = { targetOffset: 4 };

// src/create/run-pre-sites.ts
var RunPreError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "RunPreError";
  }
};
function objectAnchor(obj, map) {
  for (const s of obj.symbols) {
    if (s.type !== STT_FUNC || !s.section || s.section.name !== `.text.${s.name}`) continue;
    const a = map.unique(s.name);
    if (a !== void 0) return a;
  }
  throw new RunPreError("no function of the object has a unique System.map name");
}
function outputSectionClass(name) {
  const classes = [".text.unlikely", ".text", ".rodata", ".bss", ".data..percpu", ".data..read_mostly", ".data..ro_after_init", ".data"];
  return classes.find((c) => name === c || name.startsWith(`${c}.`)) ?? name;
}
function anchorFor(obj, name, map) {
  const own = obj.symbols.find((s) => s.name === name && s.section !== null && s.type !== STT_SECTION);
  if (own) {
    const cls = outputSectionClass(own.section.name);
    for (const s of obj.symbols) {
      if (!s.section || !s.name || s.type === STT_SECTION || s.type === STT_FILE || outputSectionClass(s.section.name) !== cls) continue;
      const a = map.unique(s.name);
      if (a !== void 0) return a;
    }
  }
  return objectAnchor(obj, map);
}
function nearestPosition(candidates, anchor) {
  const distance = (a) => a > anchor ? a - anchor : anchor - a;
  let best = 0;
  candidates.forEach((c, i) => {
    if (distance(c) < distance(candidates[best])) best = i;
  });
  return best + 1;
}
function sectionHolder(obj, section) {
  const held = obj.symbols.filter((s) => s.section === section && s.value === 0 && s.type !== STT_SECTION && s.type !== STT_FILE && s.name);
  return held.length === 1 ? held[0].name : void 0;
}
function isMergedStrings(section) {
  return section !== null && (section.flags & (SHF_MERGE | SHF_STRINGS)) === (SHF_MERGE | SHF_STRINGS);
}
function referencedString(rela) {
  const section = rela.symbol.section;
  if (!isMergedStrings(section)) return void 0;
  const at = rela.symbol.value + Number(rela.addend) + (isPcRelative32(rela.type) ? 4 : 0);
  const end = section.data.indexOf(0, at);
  return at >= 0 && end >= 0 ? section.data.toString("latin1", at, end) : void 0;
}
var SiteCollector = class {
  constructor(obj, fn, map, inModule = false) {
    this.obj = obj;
    this.fn = fn;
    this.map = map;
    this.inModule = inModule;
    this.code = fn.section.data;
    this.start = fn.value;
    this.end = fn.value + fn.size;
    this.funcRelocs = (relaFor(obj, fn.section)?.entries ?? []).filter((r) => r.offset >= this.start && r.offset < this.end);
  }
  obj;
  fn;
  map;
  inModule;
  sites = [];
  code;
  start;
  end;
  funcRelocs;
  /** Offset inside this function a special-section entry points at (s32 `. - site` or abs64), if it does. */
  offsetInFunction(rela) {
    if (rela.symbol.section !== this.fn.section) return void 0;
    const target = rela.symbol.value + Number(rela.addend);
    return target >= this.start && target < this.end ? target - this.start : void 0;
  }
  byte(offset) {
    return this.code[this.start + offset];
  }
  /**
   * The symbol of the first relocation inside the instruction at `offset`. First by offset, not by
   * table order: objtool appends the relocations it adds (e.g. sched/core.o's deactivate_task lists
   * `jmp __x86_indirect_thunk_rax` at +0x3f after `call update_rq_clock` at +0x45).
   */
  relocSymbolAt(offset) {
    let first;
    for (const r of this.funcRelocs) {
      const at = r.offset - this.start;
      if (at >= offset && at < offset + 8 && (!first || r.offset < first.offset)) first = r;
    }
    return first?.symbol.name;
  }
  /**
   * A module target's relocation: the module's own symbols (defined in the object, or a section's
   * holder) have no System.map address, the engine resolves them in the loaded module by name; an
   * undefined symbol System.map has is a vmlinux export (computed with the slide); any other one
   * (`__this_module`, another module's export) is looked for in the module, else learned.
   * Example: `call bm_entry_read` (static) → symbol bm_entry_read, symbolInModule; `call kfree` → System.map.
   */
  moduleRelocation(r) {
    const sym = r.symbol;
    let name = sym.name;
    let mapAddr;
    if (sym.type === STT_SECTION) name = (sym.section ? sectionHolder(this.obj, sym.section) : void 0) ?? sym.section?.name ?? name;
    else if (sym.section === null) mapAddr = this.map.unique(sym.name);
    const targetString = sym.type === STT_SECTION ? referencedString(r) : void 0;
    return {
      offset: r.offset - this.start,
      length: relocationSiteLength(r.type),
      kind: "RELOC",
      relocType: r.type,
      symbol: name,
      symbolMapAddr: mapAddr ?? 0n,
      symbolIsPercpu: mapAddr !== void 0 && this.map.isPerCpu(mapAddr),
      symbolInModule: mapAddr === void 0 && targetString === void 0,
      targetString,
      addend: r.addend
    };
  }
  relocations() {
    if (this.inModule) {
      for (const r of this.funcRelocs) this.sites.push(this.moduleRelocation(r));
      return;
    }
    for (const r of this.funcRelocs) {
      const sym = r.symbol;
      let name = sym.name;
      let mapAddr;
      if (sym.type === STT_SECTION) {
        const held = sym.section ? sectionHolder(this.obj, sym.section) : void 0;
        if (held) {
          mapAddr = this.map.unique(held);
          if (mapAddr !== void 0) name = held;
        }
        if (mapAddr === void 0 && sym.section) name = sym.section.name;
      } else {
        mapAddr = this.map.unique(sym.name);
      }
      const targetString = mapAddr === void 0 && sym.type === STT_SECTION ? referencedString(r) : void 0;
      this.sites.push({
        offset: r.offset - this.start,
        length: relocationSiteLength(r.type),
        kind: "RELOC",
        relocType: r.type,
        symbol: name,
        symbolMapAddr: mapAddr ?? 0n,
        symbolIsPercpu: mapAddr !== void 0 && this.map.isPerCpu(mapAddr),
        targetString,
        addend: r.addend
      });
    }
  }
  /** Every entry of a special section whose site field points into this function (entry sizes: src/x86/special-sections.ts). */
  entries(sectionName, each) {
    const entrySize = specialSectionLayout(sectionName).entrySize;
    for (const section of this.obj.sections.filter((s) => s.name === sectionName)) {
      for (const r of relaFor(this.obj, section)?.entries ?? []) {
        if (r.offset % entrySize !== 0) continue;
        const offset = this.offsetInFunction(r);
        if (offset !== void 0) each(offset, r.offset, section);
      }
    }
  }
  runtimePatched() {
    this.entries("__mcount_loc", (t) => this.sites.push({ offset: t, length: FENTRY_CALL_LENGTH, kind: "FENTRY", symbol: "__fentry__" }));
    this.entries(
      ".return_sites",
      (t) => this.sites.push({ offset: t, length: returnThunkLength(this.byte(t)), kind: "RETURN_THUNK", symbol: "__x86_return_thunk" })
    );
    this.entries(".retpoline_sites", (t) => {
      const thunk = this.relocSymbolAt(t) ?? "";
      this.sites.push({ offset: t, kind: "RETPOLINE", symbol: thunk, ...retpolineSite(this.code, this.start + t, thunk) });
    });
    this.entries(
      ".static_call_sites",
      (t) => this.sites.push({
        offset: t,
        length: STATIC_CALL_LENGTH,
        kind: "STATIC_CALL",
        symbol: this.relocSymbolAt(t),
        isJump: isJumpOpcode(this.byte(t))
      })
    );
    this.entries(".smp_locks", (t) => this.sites.push({ offset: t, length: 1, kind: "LOCK_PREFIX" }));
    this.entries(
      ".parainstructions",
      (t, entry, section) => this.sites.push({
        offset: t,
        length: section.data[entry + PARAVIRT_LENGTH_OFFSET],
        kind: "PARAVIRT",
        symbol: this.relocSymbolAt(t) ?? "pv_ops",
        replacements: []
      })
    );
    this.alternatives();
    this.jumpLabels();
  }
  /** An alternative at the place of a paravirt site widens it and adds its replacement there. */
  alternatives() {
    this.entries(".altinstructions", (t, entry, alt) => {
      const instrLen = alt.data[entry + ALT_INSTR.instrLenOffset];
      const replLen = alt.data[entry + ALT_INSTR.replLenOffset];
      if (instrLen === 0) return;
      const replRela = relaFor(this.obj, alt)?.entries.find((r) => r.offset === entry + ALT_INSTR.replOffset);
      const from = replRela?.symbol.section;
      const at = replRela ? replRela.symbol.value + Number(replRela.addend) : 0;
      const replacement = from && from.name === ".altinstr_replacement" ? Buffer.from(from.data.subarray(at, at + replLen)) : Buffer.alloc(0);
      const same = this.sites.find((s) => s.offset === t && (s.kind === "ALTERNATIVE" || s.kind === "PARAVIRT"));
      if (same) {
        same.length = Math.max(same.length, instrLen);
        same.replacements.push(replacement);
      } else {
        this.sites.push({ offset: t, length: instrLen, kind: "ALTERNATIVE", replacements: [replacement] });
      }
    });
  }
  jumpLabels() {
    this.entries("__jump_table", (t, entry, table) => {
      const targetRela = relaFor(this.obj, table)?.entries.find((r) => r.offset === entry + JUMP_ENTRY.targetOffset);
      const target = targetRela && this.offsetInFunction(targetRela);
      if (target === void 0)
        throw new RunPreError(
          `${this.fn.name}: jump label at +0x${t.toString(16)} jumps outside the function (not supported by the engine yet)`
        );
      this.sites.push({ offset: t, length: jumpLabelLength(this.byte(t)), kind: "JUMP_LABEL", targetOffset: target });
    });
  }
  /** Sorted by offset; at equal offsets the runtime-patched site before the relocation inside it. */
  sorted() {
    return this.sites.sort((a, b) => a.offset - b.offset || (a.kind === "RELOC" ? 1 : 0) - (b.kind === "RELOC" ? 1 : 0));
  }
};
function runPreSites(obj, fn, map, inModule = false) {
  const collector = new SiteCollector(obj, fn, map, inModule);
  collector.relocations();
  collector.runtimePatched();
  return collector.sorted();
}
function functionSymbol(obj, name) {
  const fn = obj.symbols.find((s) => s.name === name && s.type === STT_FUNC && s.section !== null);
  if (!fn) throw new RunPreError(`${name} is not a function of the pre object`);
  return fn;
}
function isTraceable(sites) {
  return sites.some((s) => s.kind === "FENTRY");
}
function runPreTarget(obj, name, map, companion = false) {
  const fn = functionSymbol(obj, name);
  const candidates = map.addresses(name);
  if (candidates.length === 0) throw new RunPreError(`${name}: not in System.map (inlined everywhere, or not linked into vmlinux)`);
  const sites = runPreSites(obj, fn, map);
  if (!companion && !isTraceable(sites)) throw new RunPreError(`${name}: no fentry call (notrace): ftrace cannot redirect it`);
  const sympos = candidates.length > 1 ? nearestPosition(candidates, anchorFor(obj, name, map)) : 0;
  return {
    name,
    mapAddr: candidates.length === 1 ? candidates[0] : 0n,
    candidates,
    sympos,
    pre: Buffer.from(fn.section.data.subarray(fn.value, fn.value + fn.size)),
    sites,
    companion
  };
}
function runPreModuleTarget(obj, name, map, module, companion = false) {
  const fn = functionSymbol(obj, name);
  if (obj.symbols.filter((s) => s.name === name && s.type === STT_FUNC && s.section !== null).length > 1) {
    throw new RunPreError(`${name}: defined several times in the object of module ${module}`);
  }
  const sites = runPreSites(obj, fn, map, true);
  if (!companion && !isTraceable(sites)) throw new RunPreError(`${name}: no fentry call (notrace): ftrace cannot redirect it`);
  return {
    name,
    mapAddr: 0n,
    candidates: [],
    sympos: 0,
    module,
    pre: Buffer.from(fn.section.data.subarray(fn.value, fn.value + fn.size)),
    sites,
    companion
  };
}
function coldPartOf(obj, name) {
  const cold = obj.symbols.find((s) => s.name === `${name}.cold` && s.type === STT_FUNC && s.size > 0);
  return cold?.name;
}

// src/create/hooks.ts
var HOOK_STAGES = [
  "pre_apply",
  "check_apply",
  "apply",
  "post_apply",
  "fail_apply",
  "pre_reverse",
  "check_reverse",
  "reverse",
  "post_reverse",
  "fail_reverse"
];
var REFUSING = /* @__PURE__ */ new Set(["pre_apply", "check_apply", "pre_reverse", "check_reverse"]);
var HOOK_SYMBOL_PREFIX = "__ksplice_hook_";
function hookRegistrations(source) {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/[^\n]*/g, "");
  const out = [];
  for (const m of text.matchAll(/^[ \t]*ksplice_([a-z_]+)\s*\(\s*([A-Za-z_]\w*)\s*\)\s*;/gm)) {
    const stage = m[1];
    if (HOOK_STAGES.includes(stage)) out.push({ stage, fn: m[2] });
  }
  return out;
}
function hookSymbol(h) {
  return `${HOOK_SYMBOL_PREFIX}${h.stage}_${h.fn}`;
}
function unregisteredHooks(module, hooks) {
  const known = new Set(hooks.map(hookSymbol));
  return module.symbols.filter((s) => s.section !== null && s.name.startsWith(HOOK_SYMBOL_PREFIX) && !known.has(s.name)).map((s) => s.name);
}
function hookDispatchers(hooks) {
  const out = ["/* The author's hooks (--hooks), run in the order they were registered. */"];
  const slots = [];
  for (const stage of HOOK_STAGES) {
    const mine = hooks.filter((h) => h.stage === stage);
    if (mine.length === 0) continue;
    const refusing = REFUSING.has(stage);
    for (const h of mine) out.push(`extern ${refusing ? "int" : "void"} (*const ${hookSymbol(h)})(void);`);
    if (refusing) {
      out.push(`static int ksplice_run_${stage}(void)`, "{", "	int ret;", "");
      for (const h of mine) out.push(`	ret = ${hookSymbol(h)}();`, "	if (ret)", "		return ret;");
      out.push("	return 0;", "}");
    } else {
      out.push(`static void ksplice_run_${stage}(void)`, "{", ...mine.map((h) => `	${hookSymbol(h)}();`), "}");
    }
    slots.push(`.${stage} = ksplice_run_${stage}`);
  }
  out.push(`#define KSPLICE_HOOK_TABLE { ${slots.join(", ")} }`, "");
  return out;
}

// src/create/update-descriptor.ts
function newFunctionName(name) {
  return `ksplice_new_${cIdent(name)}`;
}
function cIdent(name) {
  return name.replace(/[^A-Za-z0-9_]/g, "_");
}
function hexBytes(buf) {
  const parts = [];
  for (let i = 0; i < buf.length; i++) parts.push(`0x${buf[i].toString(16).padStart(2, "0")}${(i + 1) % 12 === 0 ? ",\n	" : ", "}`);
  return parts.join("").trimEnd();
}
function cBytesString(s) {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 32 && c < 127 && c !== 34 && c !== 92 && c !== 63 ? s[i] : `\\${c.toString(8).padStart(3, "0")}`;
  }
  return out + '"';
}
function hexAddr(a) {
  return `0x${a.toString(16)}UL`;
}
function siteFields(s, f, i) {
  const fields = [`.offset = 0x${s.offset.toString(16)}`, `.length = ${s.length}`, `.kind = KSPLICE_SITE_${s.kind}`];
  if (s.relocType !== void 0) fields.push(`.reloc_type = ${s.relocType}`);
  if (s.symbol !== void 0) fields.push(`.symbol = ${cBytesString(s.symbol)}`);
  if (s.symbolMapAddr) fields.push(`.symbol_map_addr = ${hexAddr(s.symbolMapAddr)}`);
  if (s.symbolIsPercpu) fields.push(".symbol_is_percpu = 1");
  if (s.symbolInModule) fields.push(".symbol_in_module = 1");
  if (s.targetString !== void 0) fields.push(`.target_string = ${cBytesString(s.targetString)}`);
  if (s.addend) fields.push(`.addend = ${s.addend}L`);
  if (s.targetOffset !== void 0) fields.push(`.target_offset = 0x${s.targetOffset.toString(16)}`);
  if (s.reg !== void 0) fields.push(`.reg = ${s.reg}`);
  if (s.isJump) fields.push(".is_jump = 1");
  if (s.replacements?.length) fields.push(`.replacements = ksplice_reps_${f}_${i}`, `.nr_replacements = ${s.replacements.length}`);
  return `	{ ${fields.join(", ")} },`;
}
function targetTables(t) {
  const f = cIdent(t.name);
  const out = [`static const unsigned char ksplice_pre_${f}[${t.pre.length}] = {
	${hexBytes(t.pre)}
};`];
  t.sites.forEach((s, i) => {
    if (!s.replacements?.length) return;
    s.replacements.forEach(
      (r, k) => out.push(`static const unsigned char ksplice_rep_${f}_${i}_${k}[] = { ${r.length ? hexBytes(r) : "0"} };`)
    );
    out.push(`static const struct ksplice_alt_replacement ksplice_reps_${f}_${i}[] = {`);
    s.replacements.forEach((r, k) => out.push(`	{ ksplice_rep_${f}_${i}_${k}, ${r.length} },`));
    out.push("};");
  });
  out.push(`static const struct ksplice_site ksplice_sites_${f}[] = {`, ...t.sites.map((s, i) => siteFields(s, f, i)), "};");
  if (!t.mapAddr && !t.module)
    out.push(`static const unsigned long ksplice_candidates_${f}[] = { ${t.candidates.map(hexAddr).join(", ")} };`);
  return [...out, ""];
}
function loadedSymbolTables(symbols) {
  if (symbols.length === 0) return [];
  const quads = symbols.map((s) => `	"	.quad \\"${s.name}\\"\\n"`);
  return [
    "/* Non-exported kernel symbols as the module loader resolved them (.klp.rela): checked at apply. */",
    'asm(".pushsection .rodata.ksplice_loaded_values, \\"a\\"\\n"',
    '	"	.balign 8\\n"',
    '	"ksplice_loaded_values:\\n"',
    ...quads,
    '	"	.popsection\\n");',
    "extern const unsigned long ksplice_loaded_values[];",
    "static const struct ksplice_loaded_symbol ksplice_loaded_symbols[] = {",
    ...symbols.map(
      (s, i) => `	{ .name = ${cBytesString(s.name)}, .map_addr = ${hexAddr(s.mapAddr)},${s.isPercpu ? " .is_percpu = 1," : ""} .loaded = &ksplice_loaded_values[${i}] },`
    ),
    "};",
    ""
  ];
}
function funcEntry(t) {
  const f = cIdent(t.name);
  const lines = [`	{`, `		.name = ${cBytesString(t.name)},`, `		.map_addr = ${hexAddr(t.mapAddr)},`];
  if (t.module) lines.push(`		.module = ${cBytesString(t.module)}, /* located in that module when it is loaded */`);
  if (t.sympos) lines.push(`		.sympos = ${t.sympos},`);
  if (!t.mapAddr && !t.module)
    lines.push(`		.map_candidates = ksplice_candidates_${f},`, `		.nr_map_candidates = ARRAY_SIZE(ksplice_candidates_${f}),`);
  lines.push(
    t.companion || !t.newFunction ? "		.new_func = NULL, /* companion: matched and stack-checked, not redirected */" : `		.new_func = ${t.newFunction},`
  );
  lines.push(
    `		.pre_code = ksplice_pre_${f},`,
    `		.pre_size = sizeof(ksplice_pre_${f}),`,
    `		.sites = ksplice_sites_${f},`,
    `		.nr_sites = ARRAY_SIZE(ksplice_sites_${f}),`,
    "	},"
  );
  return lines.join("\n");
}
function descriptorSource(input) {
  const newFunctions = input.targets.filter((t) => !t.companion && t.newFunction).map((t) => t.newFunction);
  return [
    "// SPDX-License-Identifier: GPL-2.0",
    `/* Ksplice update ${input.id}: generated by ksplice-create. Do not edit. */`,
    '#include "ksplice_update.h"',
    "",
    "/* The new code: post object functions, renamed, in the prebuilt part of this module. */",
    ...[...new Set(newFunctions)].map((n) => `extern void ${n}(void);`),
    "",
    ...input.targets.flatMap(targetTables),
    ...input.hooks?.length ? hookDispatchers(input.hooks) : [],
    ...loadedSymbolTables(input.loadedSymbols ?? []),
    "static struct ksplice_func ksplice_funcs[] = {",
    ...input.targets.map(funcEntry),
    "};",
    "",
    `static struct ksplice_update ksplice_update_${input.id.replace(/-/g, "_")} = {`,
    "	.abi_version = KSPLICE_ABI_VERSION,",
    `	.id = "${input.id}",`,
    `	.kernel_release = "${input.release}",`,
    `	.printk_map_addr = ${hexAddr(input.printkMapAddr)},`,
    `	.stop_machine_map_addr = ${hexAddr(input.stopMachineMapAddr)},`,
    ...input.modulesMapAddr ? [`	.modules_map_addr = ${hexAddr(input.modulesMapAddr)},`] : [],
    ...input.textPoke ? [`	.text_poke_map_addr = ${hexAddr(input.textPoke.poke)},`, `	.text_mutex_map_addr = ${hexAddr(input.textPoke.mutex)},`] : [],
    "	.funcs = ksplice_funcs,",
    "	.nr_funcs = ARRAY_SIZE(ksplice_funcs),",
    ...input.loadedSymbols?.length ? ["	.loaded_symbols = ksplice_loaded_symbols,", "	.nr_loaded_symbols = ARRAY_SIZE(ksplice_loaded_symbols),"] : [],
    ...input.hooks?.length ? ["	.hooks = KSPLICE_HOOK_TABLE,"] : [],
    "};",
    "",
    `KSPLICE_UPDATE_MODULE(ksplice_update_${input.id.replace(/-/g, "_")});`,
    ...input.livepatch ? ['MODULE_INFO(livepatch, "Y"); /* its .klp.rela sections are applied by the module loader */'] : [],
    `MODULE_DESCRIPTION("Ksplice update ${input.id}");`,
    ""
  ].join("\n");
}

// src/create/update-module.ts
var UpdateModuleError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "UpdateModuleError";
  }
};
var ModuleSymbolsError = class extends UpdateModuleError {
  constructor(object, module, names) {
    super(`${object}: the new code's load-time entries refer to ${names.join(", ")} of module ${module}: not supported`);
    this.object = object;
    this.module = module;
    this.names = names;
    this.name = "ModuleSymbolsError";
  }
  object;
  module;
  names;
};
function renameNewCode(code) {
  for (const sym of code.symbols) {
    if (sym.type !== STT_FUNC || sym.section === null) continue;
    sym.name = newFunctionName(sym.name);
    sym.bind = STB_GLOBAL;
  }
}
function targetsOf(diff, map, module, shipped) {
  const targets = [];
  const runPre = (name, companion = false) => module ? { ...runPreModuleTarget(diff.pre, name, map, module, companion), sympos: moduleFunctionPosition(name, diff.pre, shipped) } : runPreTarget(diff.pre, name, map, companion);
  const companions = /* @__PURE__ */ new Set();
  for (const change of diff.changed) {
    for (const part of change.parts) {
      if (part.status !== "changed" || !part.pre) continue;
      if (isColdPart(part.pre.name)) {
        companions.add(part.pre.name);
        continue;
      }
      targets.push({ ...runPre(part.pre.name), newFunction: newFunctionName(part.name) });
      const cold = coldPartOf(diff.pre, part.pre.name);
      if (cold) companions.add(cold);
    }
  }
  for (const name of companions) targets.push(runPre(name, true));
  return targets;
}
function klpPosition(name, map, anchor) {
  const candidates = map.addresses(name);
  if (candidates.length === 0) throw new UpdateModuleError(`the new code refers to '${name}', which is neither exported nor in System.map`);
  if (candidates.length === 1) return 0;
  return nearestPosition(candidates, anchor);
}
function loadedSymbolsOf(unresolved, map) {
  return [...unresolved.entries()].map(([name, anchor]) => {
    const position = klpPosition(name, map, anchor);
    const mapAddr = map.addresses(name)[Math.max(position, 1) - 1];
    return { name, mapAddr, isPercpu: map.isPerCpu(mapAddr) };
  });
}
function kbuildModule(opts) {
  const { kmodDir, ...rest } = opts;
  return buildExternalModule({ ...rest, extraSymbols: [path11.join(kmodDir, "Module.symvers")], includeDirs: [kmodDir] });
}
async function buildUpdateModule(input) {
  const log = input.log ?? (() => {
  });
  const moduleName = `ksplice_${input.id.replace(/-/g, "_")}`;
  await mkdir3(input.workDir, { recursive: true });
  const targets = [];
  const replaced = [];
  const parts = ["descriptor.o"];
  const unresolved = /* @__PURE__ */ new Map();
  const symvers = [path11.join(input.headersDir, "Module.symvers"), path11.join(input.kmodDir, "Module.symvers")];
  const exportOwners = await readExportOwners(symvers);
  const exported = new Set(exportOwners.keys());
  const moduleRefs = /* @__PURE__ */ new Map();
  for (const [i, { object, diff, module: home }] of input.objects.entries()) {
    const shipped = shippedFunctions(diff);
    if (shipped.length === 0) continue;
    const module = home && home !== "vmlinux" ? home : void 0;
    let objectTargets;
    try {
      objectTargets = targetsOf(diff, input.map, module, module ? input.shippedModules?.get(module) : void 0);
    } catch (e) {
      if (e instanceof RunPreError) throw new UpdateModuleError(`${object}: ${e.message}`);
      throw e;
    }
    targets.push(...objectTargets);
    for (const t of objectTargets.filter((t2) => !t2.companion)) {
      if (module) {
        replaced.push({ object, function: t.name });
        continue;
      }
      const address = t.mapAddr || t.candidates[t.sympos - 1] || t.candidates[0];
      replaced.push({ object, function: t.name, address: address.toString(16).padStart(16, "0") });
    }
    const code = extractFunctions(diff.post, shipped, { data: diff.newData.map((s) => s.name), correlation: diff.correlation });
    const sectionRefs = code.externals.filter((e) => e.kind === "section");
    if (sectionRefs.length > 0) {
      throw new UpdateModuleError(
        `${object}: the new code refers to anonymous data (${sectionRefs.map((e) => e.name).join(", ")}), which the running kernel cannot name`
      );
    }
    renameNewCode(code);
    if (module) {
      const own = moduleOwnNames(code, exportOwners, module);
      renameModuleRefs(code, own);
      if (own.length > 0)
        moduleRefs.set(module, { object, pre: diff.pre, names: /* @__PURE__ */ new Set([...moduleRefs.get(module)?.names ?? [], ...own]) });
    } else {
      for (const name of unresolvedNames(code, exported))
        if (!unresolved.has(name)) unresolved.set(name, anchorFor(diff.pre, name, input.map));
    }
    const part = `post-${i}.o`;
    await writeFile3(path11.join(input.workDir, `${part}_shipped`), writeElf(code));
    await writeFile3(path11.join(input.workDir, `.${part}.cmd`), `savedcmd_${part} := cat ${part}_shipped > ${part}
`);
    parts.push(part);
    log(`${object}: ${shipped.length} function(s) of new code, ${objectTargets.length} run-pre target(s)`);
  }
  if (targets.length === 0) throw new UpdateModuleError("nothing to replace: no changed function has a pre partner");
  let hooks = [];
  if (input.hooksPath) {
    const source = await readFile10(input.hooksPath, "utf8");
    hooks = hookRegistrations(source);
    await writeFile3(path11.join(input.workDir, "hooks.c"), source);
    parts.push("hooks.o");
    log(`hooks: ${hooks.map((h) => `${h.stage}(${h.fn})`).join(", ") || "none registered"} from ${input.hooksPath}`);
  }
  const livepatch = unresolved.size > 0 || moduleRefs.size > 0 || input.hooksPath !== void 0;
  const build = async () => {
    await writeFile3(
      path11.join(input.workDir, "descriptor.c"),
      descriptorSource({
        id: input.id,
        release: input.release,
        targets,
        livepatch,
        loadedSymbols: loadedSymbolsOf(unresolved, input.map),
        printkMapAddr: mustUnique(input.map, "_printk"),
        stopMachineMapAddr: mustUnique(input.map, "stop_machine"),
        hooks,
        modulesMapAddr: targets.some((t) => t.module) ? mustUnique(input.map, "modules") : void 0,
        textPoke: moduleRefs.size > 0 ? { poke: mustUnique(input.map, "text_poke"), mutex: mustUnique(input.map, "text_mutex") } : void 0
      })
    );
    return kbuildModule({
      dir: input.workDir,
      moduleName,
      parts,
      headersDir: input.headersDir,
      kmodDir: input.kmodDir,
      unresolvedAllowed: livepatch
    });
  };
  let ko = await build();
  if (input.hooksPath) {
    const module = readElf(await readFile10(ko));
    const missed = unregisteredHooks(module, hooks);
    if (missed.length > 0)
      throw new UpdateModuleError(
        `hook registrations ksplice-create could not read in ${input.hooksPath}: ${missed.join(", ")} (write each ksplice_<stage>(fn); on a line of its own)`
      );
    const anchorObject = input.objects[0].diff.pre;
    const before = unresolved.size;
    for (const name of unresolvedNames(module, exported)) {
      if (!unresolved.has(name) && !name.startsWith(HOOK_SYMBOL_PREFIX) && !name.startsWith(MODULE_REF_PREFIX))
        unresolved.set(name, anchorFor(anchorObject, name, input.map));
    }
    if (unresolved.size > before) ko = await build();
  }
  let klpSymbols = [];
  if (unresolved.size > 0 || moduleRefs.size > 0) {
    const module = readElf(await readFile10(ko));
    if (unresolved.size > 0) {
      klpSymbols = toKlpRelocations(module, [...unresolved.keys()], (name) => klpPosition(name, input.map, unresolved.get(name)));
      log(`livepatch relocations for ${klpSymbols.join(", ")}, each checked at apply against System.map + slide`);
    }
    for (const [target, refs] of moduleRefs) {
      const shipped = input.shippedModules?.get(target);
      const { made, refused } = toModuleKlpRelocations(module, target, (name) => modulePosition(name, refs.pre, shipped));
      if (refused.length > 0) {
        const what = [...new Set(refused.map((r) => `${r.name} (from ${r.section})`))];
        throw new ModuleSymbolsError(refs.object, target, what);
      }
      klpSymbols.push(...made);
      log(`references into module ${target} for ${made.join(", ")}: resolved by the core in the loaded module`);
    }
    await writeFile3(ko, writeElf(module));
  }
  return { ko, moduleName, replaced, klpSymbols };
}
function modulePosition(name, pre, shipped) {
  const candidates = shipped?.map.addresses(name) ?? [];
  if (candidates.length <= 1) return 0;
  try {
    return nearestPosition(candidates, anchorFor(pre, name, shipped.map));
  } catch (e) {
    if (e instanceof RunPreError) return 0;
    throw e;
  }
}
function moduleFunctionPosition(name, pre, shipped) {
  const candidates = shipped?.functionAddresses(name) ?? [];
  if (candidates.length <= 1) return 0;
  return nearestPosition(candidates, objectAnchor(pre, shipped.map));
}
function mustUnique(map, name) {
  const a = map.unique(name);
  if (a === void 0) throw new UpdateModuleError(`${name} is not in System.map exactly once`);
  return a;
}

// src/kbuild/core-module.ts
import { createHash as createHash3 } from "node:crypto";
import { copyFile as copyFile2, mkdir as mkdir4, readdir as readdir2, readFile as readFile11, rm as rm3, stat as stat2, writeFile as writeFile4 } from "node:fs/promises";
import path13 from "node:path";

// src/util/repo-root.ts
import { existsSync as existsSync2 } from "node:fs";
import path12 from "node:path";
import { fileURLToPath } from "node:url";
var root = null;
function projectRoot() {
  if (root) return root;
  for (let dir = path12.dirname(fileURLToPath(import.meta.url)); ; dir = path12.dirname(dir)) {
    if (existsSync2(path12.join(dir, "kmod", "Kbuild"))) return root = dir;
    if (path12.dirname(dir) === dir)
      throw new Error(`cannot find the ksplice-action folder (with kmod/Kbuild) above ${fileURLToPath(import.meta.url)}`);
  }
}
function projectPath(...parts) {
  return path12.join(projectRoot(), ...parts);
}

// src/kbuild/core-module.ts
var READY_MARKER = ".ksplice-core-ready";
async function coreSources(sourceDir) {
  const names = await readdir2(sourceDir);
  return names.filter((n) => n === "Kbuild" || n === "Makefile" || /\.[ch]$/.test(n) && !n.endsWith(".mod.c")).sort();
}
async function buildCore(headersDir, release, options = {}) {
  const sourceDir = options.sourceDir ?? projectPath("kmod");
  const sources = await coreSources(sourceDir);
  const hash = createHash3("sha256");
  for (const name of sources)
    hash.update(`${name}\0`).update(await readFile11(path13.join(sourceDir, name))).update("\0");
  hash.update(await readFile11(path13.join(headersDir, "Module.symvers")));
  const dir = path13.join(options.cacheDir ?? defaultCacheDir(), "core", `${release}-${hash.digest("hex").slice(0, 16)}`);
  const core = { ko: path13.join(dir, "ksplice.ko"), dir };
  const ready = async () => await stat2(path13.join(dir, READY_MARKER)).catch(() => null) !== null;
  if (await ready()) return core;
  return withLock(`${dir}.lock`, async () => {
    if (await ready()) return core;
    await rm3(dir, { recursive: true, force: true });
    await mkdir4(dir, { recursive: true });
    for (const name of sources) await copyFile2(path13.join(sourceDir, name), path13.join(dir, name));
    await run("make", ["-C", headersDir, `M=${dir}`, "modules"]);
    await writeFile4(path13.join(dir, READY_MARKER), `${release}
`);
    return core;
  });
}
async function signedCore(core, signer, dest) {
  await signer.sign(core.ko, dest);
  return dest;
}

// src/kbuild/sign-module.ts
import { createHash as createHash4, createPrivateKey, X509Certificate } from "node:crypto";
import { access, constants, readFile as readFile12 } from "node:fs/promises";
import path14 from "node:path";
var MODULE_SIG_MAGIC = "~Module signature appended~\n";
var MODULE_SIGNATURE_SIZE = 12;
var PKEY_ID_PKCS7 = 2;
var SigningError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "SigningError";
  }
};
function moduleSigHash(configText) {
  if (configValue(configText, "CONFIG_MODULE_SIG") !== "y")
    throw new SigningError(
      "the target kernel is built without CONFIG_MODULE_SIG: it does not check module signatures, so signed modules would mean nothing; build without --sign-key"
    );
  const hash = configValue(configText, "CONFIG_MODULE_SIG_HASH");
  if (!hash) throw new SigningError("the target's config has CONFIG_MODULE_SIG=y but no CONFIG_MODULE_SIG_HASH");
  return hash;
}
function readModuleSignature(ko) {
  const magic = Buffer.from(MODULE_SIG_MAGIC);
  if (ko.length < magic.length || !ko.subarray(ko.length - magic.length).equals(magic)) return null;
  const structEnd = ko.length - magic.length;
  const structStart = structEnd - MODULE_SIGNATURE_SIZE;
  if (structStart < 0) throw new SigningError("module signature trailer without its module_signature struct");
  const sigLen = ko.readUInt32BE(structEnd - 4);
  const sigStart = structStart - sigLen;
  if (sigStart < 0) throw new SigningError(`module signature length ${sigLen} exceeds the module`);
  return { content: ko.subarray(0, sigStart), pkcs7: ko.subarray(sigStart, structStart), idType: ko[structStart + 2] };
}
async function readable(file, what) {
  try {
    await access(file, constants.R_OK);
    return await readFile12(file);
  } catch (e) {
    throw new SigningError(`cannot read the signing ${what} ${file}: ${e.code ?? e.message}`);
  }
}
function privateKeyOf(keyText, keyPath) {
  try {
    return createPrivateKey({ key: keyText, format: "pem", passphrase: process.env.KBUILD_SIGN_PIN });
  } catch (e) {
    const reason = e.code === "ERR_MISSING_PASSPHRASE" ? "it is encrypted: set KBUILD_SIGN_PIN" : "not a PEM private key";
    throw new SigningError(`cannot use the signing key ${keyPath}: ${reason}`);
  }
}
function certificateOf(certText, certPath) {
  try {
    return new X509Certificate(certText);
  } catch {
    throw new SigningError(`cannot use the signing certificate ${certPath}: not an X.509 certificate (PEM or DER)`);
  }
}
async function findSignFile(sourceDir, headersDir) {
  const executable = (file) => access(file, constants.X_OK).then(
    () => true,
    () => false
  );
  const candidates = [path14.join(sourceDir, "scripts", "sign-file"), ...headersDir ? [path14.join(headersDir, "scripts", "sign-file")] : []];
  for (const file of candidates) if (await executable(file)) return file;
  await run("make", ["-C", sourceDir, "scripts"]);
  if (await executable(candidates[0])) return candidates[0];
  throw new SigningError(
    `no scripts/sign-file in ${sourceDir} after make scripts (is CONFIG_MODULE_SIG_FORMAT set, libssl-dev installed?)`
  );
}
async function prepareSigner(options) {
  const hashAlgorithm = moduleSigHash(options.configText);
  const cert = certificateOf(await readable(options.certPath, "certificate"), options.certPath);
  const key = privateKeyOf(await readable(options.keyPath, "key"), options.keyPath);
  if (!cert.checkPrivateKey(key))
    throw new SigningError(
      `the signing key ${options.keyPath} does not belong to the certificate ${options.certPath} (${cert.subject.replace(/\n/g, ", ")})`
    );
  const signFile = await findSignFile(options.sourceDir, options.headersDir);
  const identity = {
    hashAlgorithm,
    certificateSha256: createHash4("sha256").update(cert.raw).digest("hex"),
    certificateSubject: cert.subject.replace(/\n/g, ", ")
  };
  return {
    identity,
    async sign(ko, dest) {
      await run(signFile, [hashAlgorithm, options.keyPath, options.certPath, ko, ...dest === ko ? [] : [dest]]);
      const signature = readModuleSignature(await readFile12(dest));
      if (!signature || signature.idType !== PKEY_ID_PKCS7) throw new SigningError(`${signFile} left ${dest} without a PKCS#7 signature`);
    }
  };
}

// src/package/update-package.ts
import { readFile as readFile13, writeFile as writeFile5, mkdir as mkdir5 } from "node:fs/promises";
import path15 from "node:path";
var TOOLS = ["ksplice-apply", "ksplice-undo", "ksplice-view"];
function packagedObjectPath(stage, object) {
  return `objects/${stage}/${object}`;
}
function bannerSourceVersion(banner) {
  return / (?:Debian|Ubuntu) (\d[A-Za-z0-9.+~:-]*) \(/.exec(banner)?.[1] ?? null;
}
async function sourceVersion(sourceDir, banner) {
  const distro = banner ? bannerSourceVersion(banner) : null;
  if (distro) return distro;
  const text = await readFile13(path15.join(sourceDir, "Makefile"), "utf8");
  const field = (name) => new RegExp(`^${name} = (\\S*)`, "m").exec(text)?.[1] ?? "";
  return [field("VERSION"), field("PATCHLEVEL"), field("SUBLEVEL")].filter(Boolean).join(".");
}
async function writeUpdatePackage(input) {
  const configText = await readFile13(input.config, "utf8");
  const patchName = path15.basename(input.patchPath).replace(/[^A-Za-z0-9._-]/g, "_");
  const files = [
    { path: "ksplice.ko", data: await readFile13(input.coreKo) },
    { path: path15.basename(input.updateKo), data: await readFile13(input.updateKo) },
    { path: patchName, data: await readFile13(input.patchPath) }
  ];
  for (const tool of TOOLS) files.push({ path: tool, data: await readFile13(path15.join(input.toolsDir, tool)), executable: true });
  for (const o of input.objects) {
    files.push({ path: packagedObjectPath("pre", o.object), data: await readFile13(o.pre) });
    files.push({ path: packagedObjectPath("post", o.object), data: await readFile13(o.post) });
  }
  const description = `Ksplice update ${input.id} for ${input.release}: replaces ${input.changed.map((c) => c.function).join(", ")} (from ${patchName})`;
  files.push({ path: "description.txt", data: Buffer.from(description + "\n") });
  const gz = writeUpdateTarball(
    {
      id: input.id,
      kernelRelease: input.release,
      sourceVersion: await sourceVersion(input.sourceDir, input.banner),
      toolchain: {
        cc: configValue(configText, "CONFIG_CC_VERSION_TEXT") ?? "",
        as: Number(configValue(configText, "CONFIG_AS_VERSION") ?? 0),
        ld: Number(configValue(configText, "CONFIG_LD_VERSION") ?? 0)
      },
      description,
      patch: patchName,
      coreModule: "ksplice.ko",
      updateModule: path15.basename(input.updateKo),
      ...input.moduleSignature ? { moduleSignature: input.moduleSignature } : {},
      changed: input.changed,
      new: input.new
    },
    files
  );
  await mkdir5(input.outputDir, { recursive: true });
  const tarball = path15.resolve(input.outputDir, `ksplice-${input.id}.tar.gz`);
  await writeFile5(tarball, gz);
  return tarball;
}

// src/create/create.ts
var KMOD_DIR = projectPath("kmod");
var UnknownAcceptError = class extends Error {
  constructor(names, findings) {
    super(`--accept names no finding: ${names.join(", ")} (findings: ${findings.map((f) => f.symbol).join(", ") || "none"})`);
    this.name = "UnknownAcceptError";
  }
};
var UnacceptableError = class extends Error {
  constructor(findings) {
    super(`cannot be accepted, change the patch instead:
${findings.map((f) => `  ${describeFinding(f)}`).join("\n")}`);
    this.name = "UnacceptableError";
  }
};
function applyAccepts(findings, accept, complete = true) {
  const names = new Set(accept);
  const unknown = [...names].filter((n) => !findings.some((f) => f.symbol === n));
  if (complete && unknown.length > 0) throw new UnknownAcceptError(unknown, findings);
  const never = findings.filter((f) => names.has(f.symbol) && !f.acceptable);
  if (never.length > 0) throw new UnacceptableError(never);
  return { unsafe: findings.filter((f) => !names.has(f.symbol)), accepted: findings.filter((f) => names.has(f.symbol)) };
}
var MissingVmlinuxError = class extends Error {
  constructor(configDir) {
    super(
      `no vmlinux in ${configDir}: the reproduction check compares the pre build with the shipped kernel's code; link the target's vmlinux there (Debian: from the linux-image-<release>-dbg package), or pass --skip-reproduction-check to leave that check to run-pre matching at apply time`
    );
    this.name = "MissingVmlinuxError";
  }
};
var ReproductionError = class extends Error {
  constructor(mismatches) {
    super(
      `the pre build does not reproduce the shipped kernel (wrong source, config or toolchain):
` + mismatches.slice(0, 10).map((m) => `  ${m.object}: ${m.function}+0x${m.offset.toString(16)}: ${m.reason}`).join("\n")
    );
    this.mismatches = mismatches;
    this.name = "ReproductionError";
  }
  mismatches;
};
async function refuseWhatTheSourceShows(error, patchText, tree, report, accept) {
  const findings = await sourceSafetyFindings({
    patchText: patchText.toString("utf8"),
    readPre: (file) => readFile14(path16.join(tree, file), "utf8"),
    objects: []
  });
  const { unsafe, accepted } = applyAccepts(findings, accept, false);
  if (unsafe.length === 0) return null;
  return { ...report, outcome: "unsafe", tarball: null, unsafe, accepted, notes: [`not built: ${error.message}`] };
}
function shippedBanner(shipped, map) {
  const at = map.unique("linux_banner");
  return (shipped && at !== void 0 ? shipped.stringAt(at, 512) : null) ?? void 0;
}
async function checkInputs(options, progress) {
  const inputs = await resolveKernelInputs(options.sourceDir, options.configDir);
  progress.info(`target ${inputs.release}, config dir ${inputs.configDir}`);
  if (!inputs.vmlinux && !options.skipReproductionCheck) throw new MissingVmlinuxError(inputs.configDir);
  return inputs;
}
async function prepareSigning(options, inputs, progress) {
  if (!options.signing) return null;
  const signer = await prepareSigner({
    ...options.signing,
    configText: await readFile14(inputs.config, "utf8"),
    sourceDir: inputs.sourceDir,
    headersDir: inputs.headersDir
  });
  progress.info(`modules will be signed: ${signer.identity.hashAlgorithm}, certificate ${signer.identity.certificateSubject}`);
  return signer;
}
async function buildTwice(options, patchText, inputs, outDir, report, log) {
  try {
    return await doubleBuild({ tree: inputs.sourceDir, patchPath: options.patchPath, outDir, log });
  } catch (e) {
    const refusal = e instanceof UnsupportedPatchError ? await refuseWhatTheSourceShows(e, patchText, inputs.sourceDir, report, options.accept ?? []) : null;
    if (refusal) return refusal;
    throw e;
  }
}
var MissingShippedModulesError = class extends Error {
  constructor(configDir, objects) {
    super(
      `no modules in ${configDir}: the reproduction check compares the pre build of ${objects.join(", ")} with the shipped module; link the target's /lib/modules/<release> there as modules, or pass --skip-reproduction-check`
    );
    this.name = "MissingShippedModulesError";
  }
};
async function readAndCheckObjects(build, tree, shipped) {
  let checked = 0;
  const mismatches = [];
  const objects = /* @__PURE__ */ new Map();
  const linked = /* @__PURE__ */ new Map();
  const moduleObjects = build.objects.filter((o) => build.homes[o] === "module");
  if (shipped.vmlinux && moduleObjects.length > 0 && !shipped.modulesDir)
    throw new MissingShippedModulesError(shipped.configDir, moduleObjects);
  for (const object of build.objects) {
    const pre = readElf(await readFile14(path16.join(build.preDir, object)));
    const post = readElf(await readFile14(path16.join(build.postDir, object)));
    objects.set(object, { pre, post });
    if (!shipped.vmlinux) continue;
    let against = shipped.vmlinux;
    if (build.homes[object] === "module") {
      const module = await moduleOfObject(tree, object, "module");
      if (!linked.has(module)) {
        const where = await shippedModulePath(shipped.modulesDir, module);
        const ko = readElf(await readFile14(where));
        checkShippedModuleFor(shipped.release, module, moduleInfo(ko), where);
        linked.set(module, linkShippedModule(ko));
      }
      against = linked.get(module);
    }
    const report = checkReproduction(pre, object, against.map, against.kernel);
    checked += report.checked.length;
    mismatches.push(...report.mismatches);
  }
  if (mismatches.length > 0) throw new ReproductionError(mismatches);
  return { objects, checked, linked };
}
async function diffEachObject(objects, build, tree) {
  const out = {
    diffs: [],
    changed: [],
    new: [],
    notes: [],
    findings: []
  };
  for (const [object, { pre, post }] of objects) {
    const diff = diffObjects(pre, post);
    const summary = summarize(diff);
    const module = await moduleOfObject(tree, object, build.homes[object] ?? "vmlinux");
    out.diffs.push({ object, diff, module });
    out.changed.push(...summary.changed.map((f) => ({ object, function: f, module })));
    out.new.push(...summary.new.map((f) => ({ object, function: f, module })));
    out.findings.push(...summary.unsafe);
    out.notes.push(...diff.notes.map((n) => `${object}: ${n}`));
    for (const f of summary.removed) out.notes.push(`${object}: ${f} removed (its callers changed and are replaced)`);
  }
  return out;
}
function safetyVerdict(report, findings, accept) {
  ({ unsafe: report.unsafe, accepted: report.accepted } = applyAccepts(findings, accept));
  if (report.unsafe.length > 0) return "unsafe";
  if (report.changed.length === 0 && report.new.length === 0) return "no-changes";
  return null;
}
async function createUpdate(options) {
  const log = options.log ?? stderrSink;
  const progress = new Progress("ksplice-create", options.analyzeOnly ? 6 : 8, log);
  const patchText = await readFile14(options.patchPath);
  progress.step("checking the kernel inputs");
  const inputs = await checkInputs(options, progress);
  const signer = await prepareSigning(options, inputs, progress);
  progress.step("checking the toolchain");
  await checkToolchain({ config: inputs.config, vmlinux: inputs.vmlinux }, { allowMismatch: options.allowToolchainMismatch, log });
  const hooksText = options.hooksPath ? await readFile14(options.hooksPath) : null;
  const id = options.id ?? (hooksText ? updateIdFor(patchText, inputs.release, hooksText) : updateIdFor(patchText, inputs.release));
  const report = {
    id,
    kernelRelease: inputs.release,
    changed: [],
    new: [],
    unsafe: [],
    accepted: [],
    notes: [],
    reproduction: { checked: 0, shippedVmlinux: false, shippedModules: [] },
    timingsMs: progress.timings
  };
  const scratch = await mkdtemp(path16.join(os3.tmpdir(), `ksplice-create-${id}-`));
  try {
    progress.step("double build");
    const build = await buildTwice(options, patchText, inputs, scratch, report, log);
    if ("outcome" in build) return build;
    progress.step("reproduction check against the shipped vmlinux and modules");
    const map = new SystemMapIndex(inputs.symbols);
    const shipped = inputs.vmlinux ? await openShippedKernel(inputs.vmlinux) : null;
    if (!shipped)
      progress.info(
        "WARNING: reproduction check skipped (no vmlinux, as asked): the pre build is checked at apply time only (run-pre matching)"
      );
    const { objects, checked, linked } = await readAndCheckObjects(build, inputs.sourceDir, {
      vmlinux: shipped ? { kernel: shipped, map } : null,
      modulesDir: inputs.modulesDir,
      configDir: inputs.configDir,
      release: inputs.release
    });
    const modules = [...linked.keys()];
    report.reproduction = { checked, shippedVmlinux: shipped !== null, shippedModules: modules };
    if (shipped)
      progress.info(
        `${checked} functions of the pre build equal the shipped code${modules.length > 0 ? ` (vmlinux, ${modules.map((m) => `${m}.ko`).join(", ")})` : ""}`
      );
    progress.step("diff");
    const { diffs, changed, new: added, notes, findings } = await diffEachObject(objects, build, inputs.sourceDir);
    const notCompiled = build.notBuilt.map((f) => notCompiledNote(f, inputs.release));
    Object.assign(report, { changed, new: added, notes: [...notCompiled, ...notes] });
    findings.push(
      ...await sourceSafetyFindings({
        patchText: patchText.toString("utf8"),
        readPre: (file) => readFile14(path16.join(inputs.sourceDir, file), "utf8"),
        objects: diffs.map(({ object, diff }) => ({ object, changedFunctions: summarize(diff).changed }))
      })
    );
    for (const c of report.changed) progress.info(`changed: ${c.function} (${c.object}, ${c.module})`);
    for (const n of report.new) progress.info(`new: ${n.function} (${n.object}, ${n.module})`);
    progress.step("safety verdict");
    const refusal = safetyVerdict(report, findings, options.accept ?? []);
    for (const a of report.accepted) progress.info(`accepted: ${describeFinding(a)}`);
    if (refusal) return { ...report, outcome: refusal, tarball: null };
    if (options.analyzeOnly) {
      progress.done(`${report.changed.length} changed, ${report.new.length} new function(s)`);
      return { ...report, outcome: "analyzed", tarball: null };
    }
    progress.step("update module");
    const core = await buildCore(inputs.headersDir, inputs.release);
    const coreKo = signer ? await signedCore(core, signer, path16.join(scratch, "ksplice.ko")) : core.ko;
    let built;
    try {
      built = await buildUpdateModule({
        id,
        release: inputs.release,
        headersDir: inputs.headersDir,
        kmodDir: core.dir,
        workDir: path16.join(scratch, "module"),
        map,
        objects: diffs,
        shippedModules: linked,
        hooksPath: options.hooksPath,
        log: (line) => progress.info(line)
      });
    } catch (e) {
      if (!(e instanceof ModuleSymbolsError)) throw e;
      const refusal2 = finding(
        "module-code",
        e.object,
        `the object is part of a loadable module (${e.module}); entries the kernel reads when the update loads refer to the module's own ${e.names.slice(0, 5).join(", ")}${e.names.length > 5 ? ` and ${e.names.length - 5} more` : ""}`
      );
      return { ...report, outcome: "unsafe", tarball: null, unsafe: [refusal2] };
    }
    if (signer) {
      await signer.sign(built.ko, built.ko);
      progress.info(
        `signed ksplice.ko and ${path16.basename(built.ko)} (${signer.identity.hashAlgorithm}, certificate sha256 ${signer.identity.certificateSha256})`
      );
    }
    progress.step("tarball");
    const tarball = await writeUpdatePackage({
      id,
      release: inputs.release,
      sourceDir: inputs.sourceDir,
      config: inputs.config,
      patchPath: options.patchPath,
      coreKo,
      updateKo: built.ko,
      toolsDir: path16.join(KMOD_DIR, "tools"),
      changed: built.replaced,
      new: report.new.map(({ object, function: fn }) => ({ object, function: fn })),
      objects: build.objects.map((object) => ({ object, pre: path16.join(build.preDir, object), post: path16.join(build.postDir, object) })),
      outputDir: options.outputDir ?? process.cwd(),
      banner: shippedBanner(shipped, map),
      moduleSignature: signer?.identity
    });
    progress.done(`${report.changed.length} changed, ${report.new.length} new function(s): ${tarball}`);
    return { ...report, outcome: "built", tarball };
  } finally {
    await rm4(scratch, { recursive: true, force: true });
  }
}

// src/create/cli.ts
function annotate(patchPath, outcome) {
  if (process.env.GITHUB_ACTIONS !== "true") return;
  for (const line of findingAnnotations(patchPath, outcome.unsafe, outcome.accepted)) process.stderr.write(`${line}
`);
}
function signingOf(values) {
  const key = values["sign-key"];
  const cert = values["sign-cert"];
  if (Boolean(key) !== Boolean(cert))
    throw new UsageError(
      key ? "--sign-key needs --sign-cert=FILE (the certificate the target trusts)" : "--sign-cert needs --sign-key=FILE"
    );
  return key && cert ? { keyPath: path17.resolve(key), certPath: path17.resolve(cert) } : void 0;
}
async function buildAndReport(values, request, check) {
  let outcome = await createUpdate({
    sourceDir: request.sourceDir,
    patchPath: request.patchPath,
    configDir: values.config,
    id: request.id,
    outputDir: values["output-dir"],
    analyzeOnly: values["analyze-only"],
    allowToolchainMismatch: values["allow-toolchain-mismatch"],
    skipReproductionCheck: values["skip-reproduction-check"],
    hooksPath: request.hooksPath,
    accept: request.accept,
    signing: signingOf(values)
  });
  if (check) outcome = check(outcome);
  annotate(request.patchPath, outcome);
  if (values.json) process.stdout.write(`${outcomeToJson(outcome)}
`);
  const message = outcomeMessage(outcome);
  if (outcome.outcome === "no-changes") process.stderr.write(`${message}
`);
  else if (outcome.outcome === "unsafe") process.stderr.write(`ksplice-create: ${message}
`);
  else if (!values.json) process.stdout.write(`${message}
`);
  return outcome;
}
async function readManifest(file) {
  try {
    return await readProjectFile(file);
  } catch (e) {
    if (!(e instanceof ProjectFileError)) throw e;
    const lines = e.message.split("\n");
    for (const line of lines.slice(0, -1)) process.stderr.write(`${CREATE_CLI.name}: ${line}
`);
    throw new UsageError(lines[lines.length - 1]);
  }
}
async function buildProject(values, positionals) {
  const file = values.manifest;
  for (const flag of ["patch", "id", "hooks"]) {
    if (values[flag] !== void 0)
      throw new UsageError(`--${flag} goes in the project file with --manifest=${file} (each patch's ${flag})`);
  }
  if ((values.accept ?? []).length > 0)
    throw new UsageError(`--accept goes in the project file with --manifest=${file} (accept: [{symbol, rule}])`);
  if (positionals.length > 1) throw new UsageError(`one KERNEL_SOURCE, not ${positionals.length} (${positionals.join(" ")})`);
  const project = await readManifest(file);
  const where = project.kernelReleasesAt && formatPosition(project.kernelReleasesAt);
  if (where && positionals.length > 0) {
    throw new UsageError(
      `${where}: kernel-releases names Debian releases, whose trees the setup prepares; KERNEL_SOURCE ${positionals[0]} is another tree: give one of them`
    );
  }
  if (where && values["kernel-release"]) {
    throw new UsageError(
      `${where}: kernel-releases is given in the project file; --kernel-release=${values["kernel-release"]} would contradict it`
    );
  }
  if (values["kernel-release"] && positionals.length > 0) {
    throw new UsageError(
      `--kernel-release=${values["kernel-release"]} prepares its own source tree; give it or KERNEL_SOURCE (${positionals[0]}), not both`
    );
  }
  if (!where && !values["kernel-release"] && positionals.length === 0) {
    throw new UsageError(`give KERNEL_SOURCE or --kernel-release=RELEASE, or kernel-releases in ${file}`);
  }
  if (values.config && project.kernelReleases.length > 1) {
    throw new UsageError(
      `${where}: --config=${values.config} is one tree's config dir, but kernel-releases lists ${project.kernelReleases.length} releases`
    );
  }
  const updates = plannedUpdates(project, values["kernel-release"] ? [values["kernel-release"]] : [null]);
  const trees = /* @__PURE__ */ new Map();
  const codes = [];
  for (const update of updates) {
    let sourceDir = positionals[0];
    if (update.release) {
      if (!trees.has(update.release)) trees.set(update.release, (await ensureTarget({ release: update.release })).sourceDir);
      sourceDir = trees.get(update.release);
    }
    if (updates.length > 1)
      process.stderr.write(`ksplice-create: ${path17.basename(update.patch)}${update.release ? ` for ${update.release}` : ""}
`);
    const outcome = await buildAndReport(
      values,
      {
        sourceDir,
        patchPath: update.patch,
        id: update.id ?? void 0,
        hooksPath: update.hooks ?? void 0,
        accept: acceptedSymbols(update.accept)
      },
      (o) => {
        const enforced = enforceAcceptRules(o, update.accept);
        if (enforced.removedTarball) rmSync(enforced.removedTarball, { force: true });
        return enforced.outcome;
      }
    );
    codes.push(exitCodeOf(outcome));
  }
  return worstExitCode(codes);
}
runCli(CREATE_CLI, async ({ values, positionals }) => {
  signingOf(values);
  if (values.manifest) return buildProject(values, positionals);
  if (values["kernel-release"] && positionals.length > 0) {
    throw new UsageError(
      `--kernel-release=${values["kernel-release"]} prepares its own source tree; give it or KERNEL_SOURCE (${positionals.join(" ")}), not both`
    );
  }
  if (!values.patch) throw new UsageError("--patch=FILE (or --manifest=ksplice.yml) is required");
  if (positionals.length !== 1 && !values["kernel-release"]) {
    throw new UsageError(
      positionals.length === 0 ? "give KERNEL_SOURCE or --kernel-release=RELEASE" : `one KERNEL_SOURCE, not ${positionals.length} (${positionals.join(" ")})`
    );
  }
  const sourceDir = positionals[0] ?? (await ensureTarget({ release: values["kernel-release"] })).sourceDir;
  const outcome = await buildAndReport(values, {
    sourceDir,
    patchPath: path17.resolve(values.patch),
    id: values.id,
    hooksPath: values.hooks ? path17.resolve(values.hooks) : void 0,
    accept: (values.accept ?? []).flatMap((a) => a.split(",")).map((a) => a.trim()).filter(Boolean)
  });
  return exitCodeOf(outcome);
});
