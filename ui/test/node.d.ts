// The little of Node's test runner and assert the unit tests use (the project has no @types/node).

declare module 'node:test' {
  type Body = () => void | Promise<void>;
  export function describe(name: string, fn: Body): void;
  export function test(name: string, fn: Body): void;
  export { test as it };
}

declare module 'node:assert/strict' {
  function assert(value: unknown, message?: string): asserts value;
  namespace assert {
    function ok(value: unknown, message?: string): asserts value;
    function equal<T>(actual: unknown, expected: T, message?: string): asserts actual is T;
    function notEqual(actual: unknown, expected: unknown, message?: string): void;
    function deepEqual<T>(actual: unknown, expected: T, message?: string): asserts actual is T;
    function notDeepEqual(actual: unknown, expected: unknown, message?: string): void;
    function match(value: string, regexp: RegExp, message?: string): void;
    function doesNotMatch(value: string, regexp: RegExp, message?: string): void;
    function throws(fn: () => unknown, error?: RegExp | object, message?: string): void;
  }
  export default assert;
}
