// Streams a chat completion from `floe serve` with the official openai client and checks what comes back: text,
// logprobs, n choices, json_schema output, and (with FLOE_TOOLS_BASE_URL, a server whose model's chat template defines
// tool calls) a required tool call, whole and streamed.
// Usage: FLOE_BASE_URL=http://127.0.0.1:PORT/v1 [FLOE_API_KEY=KEY] [FLOE_TOOLS_BASE_URL=...] node stream-chat.mjs
import OpenAI from 'openai';

const baseURL = process.env.FLOE_BASE_URL;
if (!baseURL) {
  console.error('set FLOE_BASE_URL, e.g. http://127.0.0.1:8080/v1');
  process.exit(2);
}
const client = new OpenAI({ baseURL, apiKey: process.env.FLOE_API_KEY ?? 'none', maxRetries: 0, timeout: 60_000 });

const models = await client.models.list();
const model = models.data[0].id;

const stream = await client.chat.completions.create({
  model,
  messages: [{ role: 'user', content: 'Write a Python function that adds two numbers.' }],
  max_tokens: 24,
  temperature: 0,
  stream: true,
});
let text = '';
let chunks = 0;
let finish = null;
for await (const chunk of stream) {
  chunks++;
  const choice = chunk.choices[0];
  text += choice?.delta?.content ?? '';
  if (choice?.finish_reason) finish = choice.finish_reason;
}
if (chunks < 2 || !finish || text.length === 0) {
  console.error(`bad stream: ${chunks} chunks, finish ${finish}, text ${JSON.stringify(text)}`);
  process.exit(1);
}

const plain = await client.chat.completions.create({
  model,
  messages: [{ role: 'user', content: 'Write a Python function that adds two numbers.' }],
  max_tokens: 24,
  temperature: 0,
});
if (plain.choices[0].message.content !== text) {
  console.error(`streamed and plain answers differ: ${JSON.stringify(text)} vs ${JSON.stringify(plain.choices[0].message.content)}`);
  process.exit(1);
}

try {
  await client.completions.create({ model: 'no-such-model', prompt: 'x' });
  console.error('an unknown model was accepted');
  process.exit(1);
} catch (e) {
  if (!(e instanceof OpenAI.BadRequestError)) throw e;
}
function fail(message) {
  console.error(message);
  process.exit(1);
}

// logprobs: one entry per completion token, each with its two most likely alternatives, most likely first
const withLogprobs = await client.chat.completions.create({
  model,
  messages: [{ role: 'user', content: 'Say something.' }],
  max_tokens: 6,
  temperature: 0,
  logprobs: true,
  top_logprobs: 2,
});
const content = withLogprobs.choices[0].logprobs?.content ?? [];
if (content.length !== withLogprobs.usage.completion_tokens) fail(`logprobs: ${content.length} entries for ${withLogprobs.usage.completion_tokens} tokens`);
for (const t of content) {
  if (typeof t.token !== 'string' || !(t.logprob <= 0) || t.top_logprobs.length !== 2 || t.top_logprobs[0].logprob < t.top_logprobs[1].logprob) {
    fail(`logprobs: bad entry ${JSON.stringify(t)}`);
  }
}

// n: several choices, indexed, usage summed over them
const several = await client.chat.completions.create({
  model,
  messages: [{ role: 'user', content: 'Name a number.' }],
  max_tokens: 5,
  temperature: 1,
  seed: 3,
  n: 3,
});
if (several.choices.length !== 3 || several.choices.some((c, i) => c.index !== i)) fail(`n: ${JSON.stringify(several.choices)}`);
if (several.usage.completion_tokens !== several.choices.length * 5 && several.choices.every((c) => c.finish_reason === 'length')) {
  fail(`n: usage ${JSON.stringify(several.usage)}`);
}

// json_schema: the output parses and fits the schema, on several seeds
const schema = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 16 },
    age: { type: 'integer' },
    tags: { type: 'array', items: { type: 'string', maxLength: 8 }, minItems: 1, maxItems: 3 },
    member: { type: 'boolean' },
  },
  required: ['name', 'age', 'tags', 'member'],
  additionalProperties: false,
};
for (let seed = 0; seed < 4; seed++) {
  const r = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'Describe a person as JSON.' }],
    max_tokens: 96,
    temperature: 1,
    seed,
    response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } },
  });
  let person;
  try {
    person = JSON.parse(r.choices[0].message.content);
  } catch (e) {
    fail(`json_schema: not JSON: ${r.choices[0].message.content}`);
  }
  const keys = Object.keys(person).sort().join(',');
  if (keys !== 'age,member,name,tags' || typeof person.name !== 'string' || person.name.length > 16 || !Number.isInteger(person.age)
      || !Array.isArray(person.tags) || person.tags.length < 1 || person.tags.length > 3 || person.tags.some((t) => typeof t !== 'string' || t.length > 8)
      || typeof person.member !== 'boolean') {
    fail(`json_schema: does not fit the schema: ${r.choices[0].message.content}`);
  }
}

// tools: a required call comes back as tool_calls whose arguments parse and fit the function's parameters
let toolCall = null;
if (process.env.FLOE_TOOLS_BASE_URL) {
  const tools = new OpenAI({ baseURL: process.env.FLOE_TOOLS_BASE_URL, apiKey: process.env.FLOE_API_KEY ?? 'none', maxRetries: 0, timeout: 60_000 });
  const toolsModel = (await tools.models.list()).data[0].id;
  const weatherCall = {
    model: toolsModel,
    messages: [{ role: 'user', content: 'What is the weather in Oslo?' }],
    tools: [{
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Current weather of a city',
        parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 24 }, celsius: { type: 'boolean' } }, required: ['city', 'celsius'] },
      },
    }],
    tool_choice: 'required',
    max_tokens: 80,
    temperature: 1,
    seed: 5,
  };
  const r = await tools.chat.completions.create(weatherCall);
  const choice = r.choices[0];
  const call = choice.message.tool_calls?.[0];
  if (choice.finish_reason !== 'tool_calls' || !call || call.type !== 'function' || call.function.name !== 'get_weather') {
    fail(`tools: ${JSON.stringify(choice)}`);
  }
  const args = JSON.parse(call.function.arguments);
  if (typeof args.city !== 'string' || typeof args.celsius !== 'boolean') fail(`tools: arguments ${call.function.arguments}`);
  toolCall = call.function.name;

  // streamed: the client's own stream helper puts the call together from its deltas (id, type and name first, then
  // argument fragments as they are generated), and it must match the call the same seed gave without streaming
  const stream = tools.chat.completions.stream(weatherCall);
  let argumentDeltas = 0;
  stream.on('tool_calls.function.arguments.delta', () => { argumentDeltas++; });
  const streamed = await stream.finalChatCompletion();
  const streamedCall = streamed.choices[0].message.tool_calls?.[0];
  if (streamed.choices[0].finish_reason !== 'tool_calls' || !streamedCall?.id?.startsWith('call_') || streamedCall.function.name !== 'get_weather'
      || JSON.stringify(JSON.parse(streamedCall.function.arguments)) !== JSON.stringify(args)) {
    fail(`tools, streamed: ${JSON.stringify(streamed.choices[0])} against ${call.function.arguments}`);
  }
  if (argumentDeltas < 3) fail(`tools, streamed: the arguments came in ${argumentDeltas} fragments, not as they were generated`);
  toolCall += `,streamed in ${argumentDeltas} fragments`;
}

console.log(JSON.stringify({ model, chunks, finish, text, usage: plain.usage, logprobs: content.length, n: several.choices.length, toolCall }));
