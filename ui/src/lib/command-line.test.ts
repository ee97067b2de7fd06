import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { argsFromText, commandLine, looksLikeCommandLine, shellQuote, splitCommandLine } from './command-line';

describe('splitCommandLine: Windows paths keep their backslashes', () => {
  test('a bare program path', () => {
    assert.deepEqual(splitCommandLine('C:\\Users\\me\\srv.exe'), ['C:\\Users\\me\\srv.exe']);
  });
  test('a program path with arguments', () => {
    assert.deepEqual(splitCommandLine('C:\\Users\\me\\srv.exe --port 3000 D:\\data'), ['C:\\Users\\me\\srv.exe', '--port', '3000', 'D:\\data']);
  });
  test('a quoted path with spaces, and backslashes inside the quotes', () => {
    assert.deepEqual(splitCommandLine('"C:\\Program Files\\nodejs\\node.exe" C:\\srv\\index.js --name "my server"'), [
      'C:\\Program Files\\nodejs\\node.exe',
      'C:\\srv\\index.js',
      '--name',
      'my server',
    ]);
  });
  test('a directory ending in a backslash, followed by another argument', () => {
    assert.deepEqual(splitCommandLine('srv.exe --root C:\\data\\ --verbose'), ['srv.exe', '--root', 'C:\\data\\', '--verbose']);
  });
  test('a UNC path keeps its leading double backslash', () => {
    assert.deepEqual(splitCommandLine('\\\\fileserver\\tools\\srv.exe --x'), ['\\\\fileserver\\tools\\srv.exe', '--x']);
  });
  test('a drive path after = (--flag=C:\\…)', () => {
    assert.deepEqual(splitCommandLine('node srv.js --config=C:\\cfg\\a b'), ['node', 'srv.js', '--config=C:\\cfg\\a', 'b']);
  });
  test('forward-slash Windows paths are ordinary words', () => {
    assert.deepEqual(splitCommandLine('C:/tools/srv.exe -v'), ['C:/tools/srv.exe', '-v']);
  });
});

describe('splitCommandLine: POSIX quoting', () => {
  test('"a b" \'c d\' e\\ f', () => {
    assert.deepEqual(splitCommandLine(`cmd "a b" 'c d' e\\ f`), ['cmd', 'a b', 'c d', 'e f']);
  });
  test('a simple npx line', () => {
    assert.deepEqual(splitCommandLine('npx -y @modelcontextprotocol/server-github'), ['npx', '-y', '@modelcontextprotocol/server-github']);
  });
  test('runs of spaces, tabs and newlines separate once', () => {
    assert.deepEqual(splitCommandLine('  uvx \t mcp-server-git\n --repository  .  '), ['uvx', 'mcp-server-git', '--repository', '.']);
  });
  test('escaped quotes outside and inside double quotes', () => {
    assert.deepEqual(splitCommandLine('echo \\"hi\\" "say \\"hi\\""'), ['echo', '"hi"', 'say "hi"']);
  });
  test('an escaped single quote outside quotes', () => {
    assert.deepEqual(splitCommandLine("echo it\\'s"), ['echo', "it's"]);
  });
  test('a double backslash is one backslash', () => {
    assert.deepEqual(splitCommandLine('printf a\\\\b'), ['printf', 'a\\b']);
    assert.deepEqual(splitCommandLine('printf "a\\\\b"'), ['printf', 'a\\b']);
  });
  test('other backslashes stay, outside and inside quotes', () => {
    assert.deepEqual(splitCommandLine('grep \\d+ "\\w+" dist\\index.js'), ['grep', '\\d+', '\\w+', 'dist\\index.js']);
  });
  test('everything inside single quotes is literal', () => {
    assert.deepEqual(splitCommandLine(`sh -c 'echo "$HOME" \\ \\\\'`), ['sh', '-c', 'echo "$HOME" \\ \\\\']);
  });
  test('quoted pieces join the word around them', () => {
    assert.deepEqual(splitCommandLine(`--name="my server" a'b c'd`), ['--name=my server', 'ab cd']);
  });
  test('empty quotes are an empty argument', () => {
    assert.deepEqual(splitCommandLine(`cmd "" ''`), ['cmd', '', '']);
  });
  test('an unclosed quote runs to the end', () => {
    assert.deepEqual(splitCommandLine('cmd "a b'), ['cmd', 'a b']);
  });
  test('a trailing backslash is kept', () => {
    assert.deepEqual(splitCommandLine('cmd foo\\'), ['cmd', 'foo\\']);
  });
  test('nothing gives no arguments', () => {
    assert.deepEqual(splitCommandLine(''), []);
    assert.deepEqual(splitCommandLine('   '), []);
  });
});

describe('shellQuote / commandLine', () => {
  test('plain words stay bare', () => {
    assert.equal(shellQuote('-y'), '-y');
    assert.equal(shellQuote('@scope/pkg@1.2.3'), '@scope/pkg@1.2.3');
    assert.equal(shellQuote('--x=a,b:c%d+e'), '--x=a,b:c%d+e');
  });
  test('anything else is single-quoted, with embedded single quotes escaped', () => {
    assert.equal(shellQuote('a b'), "'a b'");
    assert.equal(shellQuote(''), "''");
    assert.equal(shellQuote("it's"), "'it'\\''s'");
    assert.equal(shellQuote('$HOME'), "'$HOME'");
  });
  test('a command line splits back into the same arguments', () => {
    const args = ['-y', 'my server', "it's", '', 'a"b'];
    assert.deepEqual(splitCommandLine(commandLine('npx', args)), ['npx', ...args]);
  });
  test('commandLine without arguments', () => {
    assert.equal(commandLine('node'), 'node');
  });
});

describe('argsFromText', () => {
  test('one argument per line; blank lines dropped; CRs removed; spaces kept', () => {
    assert.deepEqual(argsFromText('-y\r\n\n  @scope/pkg \n\t\n--flag=a b'), ['-y', '  @scope/pkg ', '--flag=a b']);
  });
  test('empty text is no arguments', () => {
    assert.deepEqual(argsFromText(''), []);
  });
});

describe('looksLikeCommandLine', () => {
  test('offers the split for a whole line while Arguments is empty', () => {
    assert.equal(looksLikeCommandLine('npx -y pkg', ''), true);
    assert.equal(looksLikeCommandLine('  npx -y pkg  ', ' \n '), true);
  });
  test('not for one word, or when arguments are there already', () => {
    assert.equal(looksLikeCommandLine('  npx  ', ''), false);
    assert.equal(looksLikeCommandLine('npx -y', '-y'), false);
  });
});
