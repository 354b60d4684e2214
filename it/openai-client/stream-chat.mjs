// Streams a chat completion from `floe serve` with the official openai client and checks what comes back.
// Usage: FLOE_BASE_URL=http://127.0.0.1:PORT/v1 [FLOE_API_KEY=KEY] node stream-chat.mjs
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
console.log(JSON.stringify({ model, chunks, finish, text, usage: plain.usage }));
