// The rules each model provider's API applies to a function (tool) declaration, as the
// provider documents them or as its API's error messages state them. Each check takes the
// declaration exactly as an SDK put it in the request body and returns a list of problems
// (empty when the provider would accept it). Used by agentsdks.mjs.

// Names: OpenAI (https://platform.openai.com/docs/api-reference/chat/create, tools[].function.name:
// "a-z, A-Z, 0-9, or contain underscores and dashes, with a maximum length of 64") and Anthropic
// (https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use, name:
// "must match the regex ^[a-zA-Z0-9_-]{1,64}$").
const openAIName = /^[a-zA-Z0-9_-]{1,64}$/;
const anthropicName = /^[a-zA-Z0-9_-]{1,64}$/;
// Gemini (https://ai.google.dev/api/caching#FunctionDeclaration, name: "must start with a letter
// or an underscore. Must be a-z, A-Z, 0-9, or contain underscores, colons, dots, and dashes, with
// a maximum length of 64").
const geminiName = /^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$/;

// Relm's own rules (issue 22, "Lean schemas"): names of at most 60 characters, so that a
// client's server prefix ("relm__") still fits the providers' 64; input schemas that are plain
// objects, with no union or negation at the top, which some clients cannot show or convert.
export function checkIssue(tool) {
  const problems = [];
  if (tool.name.length > 60) problems.push(`name is ${tool.name.length} characters, more than 60`);
  problems.push(...topLevelObject(tool.inputSchema, ['anyOf', 'oneOf', 'allOf', 'not'], 'inputSchema'));
  return problems;
}

// checkOpenAI checks a function as the Responses or Chat Completions API receives it
// ({name, parameters, strict}). The API answers 400 "Invalid schema for function …" when
// parameters is not an object schema or has oneOf, anyOf, allOf, enum or not at the top level.
// With strict: true it also applies Structured Outputs' rules
// (https://platform.openai.com/docs/guides/structured-outputs#supported-schemas): every object
// sets additionalProperties: false and lists all its properties as required.
export function checkOpenAI(fn) {
  const problems = [];
  if (!openAIName.test(fn.name)) problems.push(`name ${JSON.stringify(fn.name)} does not match ${openAIName}`);
  if (fn.parameters !== undefined) {
    problems.push(...topLevelObject(fn.parameters, ['anyOf', 'oneOf', 'allOf', 'enum', 'not'], 'parameters'));
    if (fn.strict) problems.push(...strictProblems(fn.parameters, 'parameters'));
  }
  return problems;
}

// checkAnthropic checks a tool as the Messages API receives it ({name, input_schema}). The API
// answers 400 when input_schema is not an object schema, and "input_schema does not support
// oneOf, allOf, or anyOf at the top level" for those.
export function checkAnthropic(tool) {
  const problems = [];
  if (!anthropicName.test(tool.name)) problems.push(`name ${JSON.stringify(tool.name)} does not match ${anthropicName}`);
  problems.push(...topLevelObject(tool.input_schema, ['anyOf', 'oneOf', 'allOf'], 'input_schema'));
  return problems;
}

// The fields of Gemini's Schema message (https://ai.google.dev/api/caching#Schema), "a select
// subset of an OpenAPI 3.0 schema object". The API parses parameters as that message, so any
// other key fails the whole request ("Invalid JSON payload received. Unknown name
// \"additionalProperties\" … Cannot find field."), as do a type that is not one Type value
// (a JSON Schema type array such as ["string","null"]), enum values that are not strings,
// properties or required on a schema that is not an OBJECT ("only allowed for OBJECT type"), a
// required name missing from properties, an ARRAY without items ("items: missing field"), a
// schema with no type and no anyOf ("type: must be specified when not using one_of, any_of or
// all_of fields") and an enum on a type other than STRING without format "enum" ("function
// declaration enum only allowed for STRING type").
// What reaches Gemini depends on the framework: @ai-sdk/google converts JSON Schema to this
// subset, keeping type (a type array becomes one type and nullable, or anyOf), description,
// required, format, enum (as strings), properties, items, anyOf, allOf, oneOf and minLength;
// @langchain/google-genai sends JSON Schema as is, less additionalProperties and $schema.
const geminiFields = new Set([
  'type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'minItems', 'properties',
  'required', 'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'example', 'anyOf',
  'propertyOrdering', 'default', 'items', 'minimum', 'maximum',
]);
const geminiTypes = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object', 'null']);

// checkGemini checks a function declaration as the Gemini API receives it ({name, parameters}
// or {name, parametersJsonSchema}, which takes JSON Schema as is).
export function checkGemini(decl) {
  const problems = [];
  if (!geminiName.test(decl.name)) problems.push(`name ${JSON.stringify(decl.name)} does not match ${geminiName}`);
  if (decl.parametersJsonSchema !== undefined) {
    problems.push(...topLevelObject(decl.parametersJsonSchema, [], 'parametersJsonSchema'));
  }
  if (decl.parameters !== undefined) {
    problems.push(...geminiSchemaProblems(decl.parameters, 'parameters'));
    if (String(decl.parameters.type).toLowerCase() !== 'object') problems.push('parameters: type is not OBJECT');
  }
  return problems;
}

function geminiSchemaProblems(s, at) {
  if (s === null || typeof s !== 'object' || Array.isArray(s)) return [`${at}: not a schema object`];
  const problems = [];
  for (const key of Object.keys(s)) {
    if (!geminiFields.has(key)) problems.push(`${at}: unknown field ${JSON.stringify(key)}`);
  }
  const type = s.type === undefined ? undefined : String(s.type).toLowerCase();
  if (s.type !== undefined && (typeof s.type !== 'string' || !geminiTypes.has(type))) {
    problems.push(`${at}.type: ${JSON.stringify(s.type)} is not one Gemini Type`);
  }
  if (s.enum !== undefined && !(Array.isArray(s.enum) && s.enum.every((v) => typeof v === 'string'))) {
    problems.push(`${at}.enum: values must be strings`);
  }
  if ((s.properties !== undefined || s.required !== undefined) && type !== 'object') {
    problems.push(`${at}: properties or required only allowed for OBJECT type`);
  }
  for (const name of s.required ?? []) {
    if (!(s.properties && name in s.properties)) problems.push(`${at}.required: ${name} is not in properties`);
  }
  if (type === 'array' && s.items === undefined) problems.push(`${at}.items: missing field`);
  if (s.type === undefined && s.anyOf === undefined) problems.push(`${at}.type: must be specified when not using any_of`);
  if (s.enum !== undefined && type !== 'string' && s.format !== 'enum') problems.push(`${at}.enum: only allowed for STRING type`);
  for (const [name, sub] of Object.entries(s.properties ?? {})) {
    problems.push(...geminiSchemaProblems(sub, `${at}.properties.${name}`));
  }
  if (s.items !== undefined) problems.push(...geminiSchemaProblems(s.items, `${at}.items`));
  (s.anyOf ?? []).forEach((sub, i) => problems.push(...geminiSchemaProblems(sub, `${at}.anyOf[${i}]`)));
  return problems;
}

// topLevelObject checks that schema is an object schema without any of the keywords banned.
function topLevelObject(schema, banned, at) {
  if (schema === null || typeof schema !== 'object') return [`${at}: missing`];
  const problems = [];
  if (schema.type !== 'object') problems.push(`${at}: type is ${JSON.stringify(schema.type)}, not "object"`);
  for (const key of banned) {
    if (key in schema) problems.push(`${at}: ${key} at the top level`);
  }
  return problems;
}

// strictProblems lists where schema breaks Structured Outputs' object rules.
function strictProblems(s, at) {
  if (s === null || typeof s !== 'object') return [];
  const problems = [];
  if (s.type === 'object' || (Array.isArray(s.type) && s.type.includes('object'))) {
    if (s.additionalProperties !== false) problems.push(`${at}: strict object without additionalProperties: false`);
    const keys = Object.keys(s.properties ?? {});
    const missing = keys.filter((k) => !(s.required ?? []).includes(k));
    if (missing.length) problems.push(`${at}: strict object does not require ${missing.join(', ')}`);
  }
  for (const [name, sub] of Object.entries(s.properties ?? {})) problems.push(...strictProblems(sub, `${at}.properties.${name}`));
  if (s.items) problems.push(...strictProblems(s.items, `${at}.items`));
  for (const k of ['anyOf', 'oneOf', 'allOf']) (s[k] ?? []).forEach((sub, i) => problems.push(...strictProblems(sub, `${at}.${k}[${i}]`)));
  for (const [name, sub] of Object.entries(s.$defs ?? {})) problems.push(...strictProblems(sub, `${at}.$defs.${name}`));
  return problems;
}

// selfCheck runs each check on declarations it must accept and on ones it must reject, so a
// check that has stopped rejecting anything fails too. It returns what went wrong.
export function selfCheck() {
  const obj = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] };
  const cases = [
    ['issue', checkIssue, { name: 'get_contact', inputSchema: obj }, true],
    ['issue', checkIssue, { name: 'x'.repeat(61), inputSchema: obj }, false],
    ['issue', checkIssue, { name: 'f', inputSchema: { ...obj, anyOf: [obj] } }, false],
    ['openai', checkOpenAI, { name: 'get_contact', parameters: obj }, true],
    ['openai', checkOpenAI, { name: 'relm.get_contact', parameters: obj }, false],
    ['openai', checkOpenAI, { name: 'f', parameters: { type: 'string' } }, false],
    ['openai', checkOpenAI, { name: 'f', parameters: { ...obj, not: {} } }, false],
    ['openai', checkOpenAI, { name: 'f', parameters: obj, strict: true }, false],
    ['openai', checkOpenAI, { name: 'f', parameters: { ...obj, additionalProperties: false }, strict: true }, true],
    ['anthropic', checkAnthropic, { name: 'get_contact', input_schema: obj }, true],
    ['anthropic', checkAnthropic, { name: 'x'.repeat(65), input_schema: obj }, false],
    ['anthropic', checkAnthropic, { name: 'f', input_schema: { ...obj, oneOf: [obj] } }, false],
    ['gemini', checkGemini, { name: 'get_contact', parameters: { ...obj, properties: { id: { type: 'string', nullable: true, format: 'email' } } } }, true],
    ['gemini', checkGemini, { name: '1f', parameters: obj }, false],
    ['gemini', checkGemini, { name: 'f', parameters: { ...obj, additionalProperties: false } }, false],
    ['gemini', checkGemini, { name: 'f', parameters: { ...obj, properties: { id: { type: ['string', 'null'] } } } }, false],
    ['gemini', checkGemini, { name: 'f', parameters: { ...obj, properties: { id: { type: 'array' } } } }, false],
    ['gemini', checkGemini, { name: 'f', parameters: { ...obj, properties: { id: { type: 'integer', enum: [1, 2] } } } }, false],
    ['gemini', checkGemini, { name: 'f', parameters: { ...obj, required: ['nope'] } }, false],
    ['gemini', checkGemini, { name: 'f', parameters: { ...obj, properties: { id: { type: 'string', properties: {} } } } }, false],
    ['gemini', checkGemini, { name: 'f', parameters: { ...obj, properties: { id: { description: 'no type' } } } }, false],
    ['gemini', checkGemini, { name: 'f', parameters: { ...obj, properties: { id: { anyOf: [{ type: 'string' }, { type: 'integer' }] } } } }, true],
    ['gemini', checkGemini, { name: 'f', parameters: { ...obj, properties: { id: { type: 'integer', format: 'enum', enum: ['1'] } } } }, true],
  ];
  const wrong = [];
  cases.forEach(([provider, check, decl, ok], i) => {
    const problems = check(decl);
    if (ok && problems.length) wrong.push(`${provider} case ${i} was rejected: ${problems.join('; ')}`);
    if (!ok && !problems.length) wrong.push(`${provider} case ${i} was accepted`);
  });
  return wrong;
}
