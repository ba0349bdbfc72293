<?php
// The floor of a PHP bond: read one JSON-RPC request line, call an identity function, write one
// reply line. Nothing else: what any bond over pipes with PHP's json must at least spend.
function ident($x) { return $x; }

const FLAGS = JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION;
while (($line = fgets(STDIN)) !== false) {
    $request = json_decode($line, true, 512, JSON_THROW_ON_ERROR);
    $reply = ['jsonrpc' => '2.0', 'id' => $request['id'],
              'result' => ident(...$request['params']['args'])];
    fwrite(STDOUT, json_encode($reply, FLAGS | JSON_THROW_ON_ERROR) . "\n");
}
