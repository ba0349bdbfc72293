#!/usr/bin/env node
// bond-client (clients/node): PHP's explode from Node.js, and PHP calling JavaScript back.
// Usage: node_client.js [SOCKET] (default: a private bondd, started for this program).
const { Client } = require('../../clients/node'); // elsewhere: require('bond-client')

(async () => {
  const client = await Client.connect(process.argv[2] ? { socket: process.argv[2] } : {});
  const php = await client.open('PHP');
  await php.export('shout', async (text) => `${text.toUpperCase()}!`);
  await php.evalBlock('function greet($name) { echo "PHP greets $name\\n"; return shout($name); }');
  console.log(await php.call('explode', ' ', 'a b c'));
  console.log(await php.call('greet', 'node'));
  await client.close();
})();
