package io.mysimbdp.functions.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.dashjoin.jsonata.SandboxBridge;
import io.mysimbdp.functions.sandbox.LimitExceededException.Limit;
import io.mysimbdp.functions.spi.CompileException;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Uploaded JSONata that tries to hang, exhaust memory or the stack, or reach the host: each is
 * stopped within one second with a clear message, or refused at compile time with a position.
 * "Within one second" is the evaluating thread's CPU time ({@link Stopped}), so a loaded build
 * machine does not fail these tests and an evaluation that is not stopped still does.
 */
class HostileJsonataTest {
  private static final FunctionContext CONTEXT = new FunctionContext("evil", "c", "s", 0);
  private static final SandboxLimits LIMITS = SandboxLimits.DEFAULT;

  @BeforeAll
  static void warmUp() throws Exception {
    // class loading and JIT of the library are not the function's time
    JsonataFunction f = JsonataFunction.compile("{'a': $string([1..100])}", LIMITS);
    for (int i = 0; i < 200; i++) {
      f.apply(record(), CONTEXT);
    }
  }

  private static Map<String, Object> record() {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("name", "x");
    r.put("n", 5L);
    return r;
  }

  /** Runs the source on a record; expects a LimitExceededException of that kind, within 1 s. */
  private static LimitExceededException stopped(String source, Limit limit, SandboxLimits limits)
      throws Exception {
    JsonataFunction f = JsonataFunction.compile(source, limits);
    LimitExceededException e =
        Stopped.within(() -> assertThrows(LimitExceededException.class, () -> f.apply(record(), CONTEXT)));
    assertEquals(limit, e.limit(), e.getMessage());
    return e;
  }

  private static CompileException refused(String source) {
    return assertThrows(CompileException.class, () -> JsonataFunction.compile(source, LIMITS));
  }

  /**
   * The CPU clock alone (the allocation budget off; the produced-size total out of reach: a busy
   * loop over ranges produced 4 M units before 100 ms of CPU on a quiet machine; the wall-clock
   * ceiling, tested in {@link JsonataMonitorTest}, out of the way: on a loaded machine it can fire
   * first): JSONata runs a tail call as a loop.
   */
  private static final SandboxLimits CLOCK_ONLY =
      LIMITS.withMaxAllocatedBytes(0).withMaxProducedSize(Long.MAX_VALUE).withWallClockTimeout(Duration.ofSeconds(9));

  /** The size bounds alone: a generous clock, no allocation budget (so neither fires first). */
  private static final SandboxLimits SIZES_ONLY =
      LIMITS.withTimeout(Duration.ofMillis(800)).withMaxAllocatedBytes(0).withWallClockTimeout(Duration.ofSeconds(9));

  private static final String INFINITE_LOOP = "($loop := function($i) { $loop($i + 1) }; $loop(0))";

  @Test
  void infiniteLoopTimesOut() throws Exception {
    LimitExceededException e = stopped(INFINITE_LOOP, Limit.TIMEOUT, CLOCK_ONLY);
    assertEquals("timeout after 100 ms", e.getMessage());
  }

  /**
   * With every bound on, the loop meets whichever comes first: 100 ms, or 16 MiB allocated (the
   * interpreter allocates about 1 KB per iteration, so on a fast machine the budget runs out
   * first). Either way it stops quickly with a clear message.
   */
  @Test
  void infiniteLoopStopsUnderTheDefaultLimits() throws Exception {
    JsonataFunction f = JsonataFunction.compile(INFINITE_LOOP, LIMITS);
    LimitExceededException e =
        Stopped.within(() -> assertThrows(LimitExceededException.class, () -> f.apply(record(), CONTEXT)));
    assertTrue(
        e.getMessage().equals("timeout after 100 ms")
            || e.getMessage().startsWith("memory limit: allocated")
            || e.getMessage().startsWith("timeout after 500 ms of wall clock"), // a loaded machine
        e.getMessage());
  }

  @Test
  void busyLoopOverARangeTimesOut() throws Exception {
    stopped("$sum([1..99999].($sum([1..99999])))", Limit.TIMEOUT, CLOCK_ONLY);
  }

  @Test
  void timeoutIsConfigurable() throws Exception {
    LimitExceededException e =
        stopped(INFINITE_LOOP, Limit.TIMEOUT, CLOCK_ONLY.withTimeout(Duration.ofMillis(20)));
    assertEquals("timeout after 20 ms", e.getMessage());
  }

  @Test
  void unboundedRecursionHitsTheDepthLimit() throws Exception {
    LimitExceededException e =
        stopped("($f := function($i) { 1 + $f($i + 1) }; $f(0))", Limit.DEPTH, LIMITS);
    assertEquals("recursion depth > 200", e.getMessage());
  }

  @Test
  void recursionDeeperThanTheThreadStackIsStillAClearError() throws Throwable {
    // a small stack and a high depth limit: the stack overflows first and is reported
    Throwable[] thrown = new Throwable[1];
    Thread t =
        new Thread(
            null,
            () -> {
              try {
                stopped(
                    "($f := function($i) { 1 + $f($i + 1) }; $f(0))",
                    Limit.DEPTH,
                    LIMITS.withMaxDepth(1_000_000));
              } catch (Throwable e) {
                thrown[0] = e;
              }
            },
            "small-stack",
            128 * 1024);
    t.start();
    t.join();
    if (thrown[0] != null) {
      throw thrown[0];
    }
  }

  @Test
  void doublingAStringHitsTheStringLimit() throws Exception {
    LimitExceededException e =
        stopped(
            "$reduce([1..40], function($acc, $i) { $acc & $acc }, 'xxxxxxxx')", Limit.MEMORY, SIZES_ONLY);
    assertTrue(e.getMessage().startsWith("memory limit: string of"), e.getMessage());
  }

  @Test
  void hugePaddingIsRefusedBeforeAllocating() throws Exception {
    LimitExceededException e = stopped("{'x': $pad('x', 1000000000)}", Limit.MEMORY, SIZES_ONLY);
    assertEquals("memory limit: string of 1000000000 characters, more than 1000000", e.getMessage());
  }

  @Test
  void hugeRangesAndArraysAreRefused() throws Exception {
    LimitExceededException e = stopped("{'x': [1..10000000]}", Limit.MEMORY, SIZES_ONLY);
    assertTrue(e.getMessage().contains("10000000 elements"), e.getMessage());
    stopped("$split($pad('', 900000, 'a'), '')", Limit.MEMORY, SIZES_ONLY);
  }

  @Test
  void amplifyingBuiltInsAreCheckedBeforeTheyBuild() throws Exception {
    // 100 refs to one string: 200 KB in memory, a 10-million-character string once joined
    LimitExceededException e =
        stopped("($s := $pad('', 100000, 'x'); $join([1..100].($s)))", Limit.MEMORY, SIZES_ONLY);
    assertEquals("memory limit: string of 10000000 characters, more than 1000000", e.getMessage());
    // 2,000 refs to a 1M string: the array itself is already too big by its logical size
    e = stopped("($s := $pad('', 999999, 'x'); $join([1..2000].($s)))", Limit.MEMORY, SIZES_ONLY);
    assertEquals("memory limit: value larger than 1000000 size units", e.getMessage());
    stopped(
        "$replace($pad('', 100000, 'a'), 'a', $pad('', 100000, 'b'))", Limit.MEMORY, SIZES_ONLY);
    // 1,000 references to one 50,000-element list, flattened by the path: refused before the copy
    e = stopped("($l := [1..50000]; $count([1..1000].($l)))", Limit.MEMORY, SIZES_ONLY);
    assertEquals(
        "memory limit: intermediate values larger than 4000000 size units in total", e.getMessage());
    e = stopped("($l := [1..50000].($); $count([1..1000].($l)))", Limit.MEMORY, SIZES_ONLY);
    stopped("($o := {'k': $pad('', 999999, 'x')}; $string([$o, $o, $o]))", Limit.MEMORY, SIZES_ONLY);
  }

  @Test
  void allocationIsBoundedByBytesAllocated() throws Exception {
    // each $append copies the list: quadratic allocation while every value stays small
    SandboxLimits limits =
        LIMITS.withTimeout(Duration.ofMillis(900)).withMaxAllocatedBytes(4L << 20).withWallClockTimeout(Duration.ofSeconds(9));
    LimitExceededException e =
        stopped(
            "$reduce([1..20000], function($acc, $i) { $append($acc, $i) }, [])",
            Limit.MEMORY,
            limits);
    assertTrue(e.getMessage().startsWith("memory limit: allocated"), e.getMessage());
  }

  @Test
  void evalIsRefusedAtCompileTimeWithAPosition() {
    CompileException e = refused("{\n  'x': $eval('1 + 1')\n}");
    assertEquals(2, e.line());
    assertEquals(8, e.column());
    assertTrue(e.detail().startsWith("$eval is not allowed"), e.detail());
    // through a variable, too
    assertEquals(7, refused("($e := $eval; $e('1'))").offset());
  }

  @Test
  void regularExpressionsAreRefused() {
    CompileException e = refused("$match('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', /(a+)+$/)");
    assertTrue(e.detail().startsWith("regular expressions are not allowed"), e.detail());
    assertEquals(1, e.line());
  }

  @Test
  void functionSignaturesAndPictureParsersAreRefused() throws Exception {
    refused("function($x)<n:n>{ $x }");
    refused("$parseInteger('12', '#0')");
    LimitExceededException e = stopped("{'t': $toMillis('2020', '[Y]')}", Limit.FORBIDDEN, LIMITS);
    assertTrue(e.getMessage().startsWith("$toMillis with a picture"), e.getMessage());
  }

  /**
   * Files, sockets, threads, host classes: JSONata has no syntax for any of them. A name that is
   * not one of its built-in functions is not callable; a Java object never reaches the evaluator.
   */
  @Test
  void noFileNetworkThreadOrHostAccess() throws Exception {
    for (String attempt :
        List.of(
            "$readFile('/etc/passwd')",
            "$open('/etc/passwd')",
            "$httpGet('http://example.com')",
            "$socket('localhost', 22)",
            "$thread(function() { 1 })",
            "$exec('rm -rf /')",
            "$class('java.lang.Runtime')")) {
      JsonataFunction f = JsonataFunction.compile(attempt, LIMITS);
      FunctionException e =
          Stopped.within(() -> assertThrows(FunctionException.class, () -> f.apply(record(), CONTEXT)));
      // T1006: "Attempted to invoke a non-function"
      assertTrue(e.getMessage().contains("T1006"), attempt + ": " + e.getMessage());
    }
    // a path into a variable that does not exist is undefined: nothing to call
    for (String attempt : List.of("{'r': $java.lang.Runtime.getRuntime()}", "{'r': $System.exit(1)}")) {
      assertEquals(
          List.of(Map.of()), JsonataFunction.compile(attempt, LIMITS).apply(record(), CONTEXT), attempt);
    }
    // field access on the input reaches only JSON values: no getters, no getClass
    for (String attempt : List.of("{'c': $.class}", "{'c': $lookup($, 'class')}", "{'c': name.getClass}")) {
      assertEquals(
          List.of(Map.of()), JsonataFunction.compile(attempt, LIMITS).apply(record(), CONTEXT), attempt);
    }
    // a record carrying a Java object is refused before evaluation
    Map<String, Object> withObject = record();
    withObject.put("t", new Thread(() -> {}));
    JsonataFunction identity = JsonataFunction.compile("$", LIMITS);
    FunctionException e =
        assertThrows(FunctionException.class, () -> identity.apply(withObject, CONTEXT));
    assertTrue(e.getMessage().startsWith("input is not JSON"), e.getMessage());
  }

  /**
   * The complete list of what an uploaded expression can call. If a library upgrade adds a
   * function (a $readFile, say), this test fails and the function must be reviewed first.
   */
  @Test
  void theCallableFunctionsAreExactlyTheReviewedBuiltIns() {
    Set<String> reviewed =
        Set.of(
            "sum", "count", "max", "min", "average", "string", "substring", "substringBefore",
            "substringAfter", "lowercase", "uppercase", "length", "trim", "pad", "match",
            "contains", "replace", "split", "join", "formatNumber", "formatBase", "formatInteger",
            "parseInteger", "number", "floor", "ceil", "round", "abs", "sqrt", "power", "random",
            "boolean", "not", "map", "zip", "filter", "single", "reduce", "sift", "keys",
            "lookup", "append", "exists", "spread", "merge", "reverse", "each", "error", "assert",
            "type", "sort", "shuffle", "distinct", "base64encode", "base64decode",
            "encodeUrlComponent", "encodeUrl", "decodeUrlComponent", "decodeUrl", "eval",
            "toMillis", "fromMillis", "clone", "now", "millis");
    Set<String> actual = new TreeSet<>(SandboxBridge.builtinNames());
    actual.removeAll(reviewed);
    assertEquals(Set.of(), actual, "built-in functions nobody reviewed");
  }

  @Test
  void aSyntaxErrorHasAPosition() {
    CompileException e = refused("(\n  $x := 1;\n  $x + )");
    assertEquals(3, e.line());
    assertEquals(8, e.column());
    assertEquals("jsonata", e.language());
    assertTrue(e.getMessage().startsWith("jsonata error at line 3, column 8:"), e.getMessage());
    assertEquals(-1, refused("   ").line());
  }

  @Test
  void aNonObjectResultFailsTheRecord() throws Exception {
    for (String source : List.of("'a string'", "42", "true", "[{'a': 1}, 2]", "function($x) { $x }")) {
      JsonataFunction f = JsonataFunction.compile(source, LIMITS);
      FunctionException e = assertThrows(FunctionException.class, () -> f.apply(record(), CONTEXT));
      assertTrue(e.getMessage().startsWith("the JSONata function returned"), e.getMessage());
    }
    FunctionException e =
        assertThrows(
            FunctionException.class,
            () -> JsonataFunction.compile("{'f': function($x) { $x }}", LIMITS).apply(record(), CONTEXT));
    assertEquals("the JSONata function returned a function at result.f, which is not JSON", e.getMessage());
  }

  @Test
  void resultsMapToRecords() throws Exception {
    assertEquals(
        List.of(Map.of("a", 1L)), JsonataFunction.compile("{'a': 1}", LIMITS).apply(record(), CONTEXT));
    assertEquals(
        List.of(Map.of("a", 1L), Map.of("b", 2.5d)),
        JsonataFunction.compile("[{'a': 1}, {'b': 2.5}]", LIMITS).apply(record(), CONTEXT));
    assertEquals(List.of(), JsonataFunction.compile("[]", LIMITS).apply(record(), CONTEXT));
    assertEquals(List.of(), JsonataFunction.compile("nothing", LIMITS).apply(record(), CONTEXT));
    assertEquals(
        List.of(Map.of("tenant", "evil", "position", 0L, "n", 5L)),
        JsonataFunction.compile("{'tenant': $context.tenant, 'position': $context.position, 'n': n}", LIMITS)
            .apply(record(), CONTEXT));
    LimitExceededException e =
        assertThrows(
            LimitExceededException.class,
            () -> JsonataFunction.compile("[1..5000].{'i': $}", LIMITS).apply(record(), CONTEXT));
    assertEquals(Limit.OUTPUT, e.limit());
  }

  @Test
  void aBrokenFunctionIsDisabledAfterConsecutiveFailuresAndCanBeReset() throws Exception {
    GuardedFunction guarded =
        new GuardedFunction(
            "evil/loop",
            JsonataFunction.compile(INFINITE_LOOP, CLOCK_ONLY),
            new GuardedFunction.Policy(3, Duration.ofSeconds(10)));
    for (int i = 0; i < 3; i++) {
      assertThrows(LimitExceededException.class, () -> guarded.apply(record(), CONTEXT));
    }
    assertEquals(GuardedFunction.State.DISABLED, guarded.status().state());
    assertTrue(guarded.status().reason().contains("timeout after 100 ms"), guarded.status().reason());
    long calls = guarded.status().calls();
    FunctionDisabledException off =
        assertThrows(FunctionDisabledException.class, () -> guarded.apply(record(), CONTEXT));
    assertEquals(calls, guarded.status().calls(), "a disabled function is not run");
    assertTrue(off.getMessage().startsWith("function evil/loop is disabled: 3 consecutive failures"));
    guarded.reset();
    assertEquals(GuardedFunction.State.ACTIVE, guarded.status().state());
    assertEquals(3, guarded.status().failures());
  }
}
