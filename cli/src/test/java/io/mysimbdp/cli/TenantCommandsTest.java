package io.mysimbdp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mysimbdp.cli.FakePlatform.Call;
import io.mysimbdp.cli.FakePlatform.Reply;
import io.mysimbdp.protocol.ApiError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands beyond batch, against the fake platform: what they send, retry and print. */
class TenantCommandsTest {
  private static final String KEY = "msk_test_secret_key";

  @TempDir Path dir;
  private FakePlatform platform;

  @BeforeEach
  void start() throws IOException {
    platform = new FakePlatform("alice", KEY);
  }

  @AfterEach
  void stop() {
    platform.close();
  }

  private Cli.Run cli(String... command) {
    List<String> args = new ArrayList<>(List.of("--url", platform.url().toString(), "--tenant", "alice", "--key", KEY));
    args.addAll(List.of(command));
    return Cli.run(args.toArray(String[]::new));
  }

  private static JsonNode json(String text) throws IOException {
    return PlatformClient.READER.readTree(text);
  }

  private static Reply accepted(Call call) {
    long lines = call.text().lines().count();
    return Reply.json(202, Map.of("tenant", "alice", "accepted", lines, "ids", List.of()));
  }

  @Test
  void helpListsEveryCommand() {
    Cli.Run help = Cli.run("--help");
    assertEquals(0, help.exit(), help::toString);
    for (String command : List.of("upload", "ingest", "files", "stream", "send", "functions", "categories", "quality", "reports",
        "stats", "dead-letters", "data", "constraints", "completion")) {
      assertTrue(help.out().matches("(?s).*\n  " + command + "\\s.*"), command + " missing from --help: " + help);
    }
  }

  @Test
  void completionPrintsABashScriptOfTheCommands() {
    Cli.Run completion = Cli.run("completion");
    assertEquals(0, completion.exit(), completion::toString);
    assertTrue(completion.out().contains("complete -F"), completion::toString);
    assertTrue(completion.out().contains("dead-letters"), "subcommands are completed");
  }

  @Test
  void streamStartStopStatus() throws IOException {
    platform.script("POST stream/start", Reply.json(200, Map.of("tenant", "alice", "state", "running", "consumed", 0)));
    platform.script("POST stream/stop", Reply.json(200, Map.of("tenant", "alice", "state", "stopped", "consumed", 7)));
    platform.script("GET stream", Reply.json(200, Map.of("tenant", "alice", "state", "running", "lag", 12)));

    Cli.Run start = cli("stream", "start");
    assertEquals(0, start.exit(), start::toString);
    assertTrue(start.out().matches("(?s).*state:\\s+running.*"), start::toString);
    Cli.Run status = cli("stream", "status", "--json");
    assertEquals(12, json(status.out()).path("lag").asInt(), status::toString);
    Cli.Run stop = cli("stream", "stop");
    assertTrue(stop.out().matches("(?s).*consumed:\\s+7.*"), stop::toString);
    assertEquals(2, cli("stream").exit(), "a subcommand is required");
  }

  @Test
  void sendChunksNdjsonWithAnIdempotencyKeyPerRequestAndTheSameKeysWhenRunAgain() throws IOException {
    Path records = dir.resolve("records.ndjson");
    Files.writeString(records, IntStream.range(0, 25).mapToObj(i -> "{\"n\":" + i + "}").collect(Collectors.joining("\n", "", "\n")));
    platform.routes.put("POST messages", TenantCommandsTest::accepted);

    Cli.Run first = cli("send", records.toString(), "--batch", "10", "--category", "sensors");
    assertEquals(0, first.exit(), first::toString);
    assertTrue(first.out().contains("sent 25 record(s) in 3 request(s)"), first::toString);
    List<Call> calls = platform.calls("POST", "messages");
    assertEquals(3, calls.size());
    String sha = FakePlatform.sha256(Files.readAllBytes(records));
    assertEquals(List.of(sha + ":0", sha + ":1", sha + ":2"), calls.stream().map(c -> c.header("Idempotency-Key")).toList());
    assertEquals(List.of(10L, 10L, 5L), calls.stream().map(c -> c.text().lines().count()).toList());
    assertEquals("{\"n\":10}", calls.get(1).text().lines().findFirst().orElseThrow());
    assertEquals("application/x-ndjson", calls.get(0).header("Content-Type"));
    assertEquals("sensors", calls.get(0).query().get("category"));

    Cli.Run again = cli("send", records.toString(), "--batch", "10", "--category", "sensors");
    assertEquals(0, again.exit(), again::toString);
    List<Call> all = platform.calls("POST", "messages");
    assertEquals(
        calls.stream().map(c -> c.header("Idempotency-Key")).toList(),
        all.subList(3, 6).stream().map(c -> c.header("Idempotency-Key")).toList(),
        "a re-run sends the same keys: the platform stores nothing twice");
  }

  @Test
  void sendSealsTheChosenFieldsBeforeTheyLeaveTheMachine() throws Exception {
    platform.routes.put("POST messages", TenantCommandsTest::accepted);
    Path key = dir.resolve("tenant.key");
    assertEquals(0, cli("keygen", "--out", key.toString()).exit());
    Path records = dir.resolve("patients.ndjson");
    Files.writeString(records, "{\"name\":\"Ada Lovelace\",\"ward\":\"B7\",\"pulse\":72}\n{\"name\":\"Alan Turing\",\"ward\":\"B7\",\"pulse\":64}\n");

    Cli.Run run = cli("send", records.toString(), "--seal", "name,ward:det", "--key-file", key.toString());
    assertEquals(0, run.exit(), run::toString);
    String body = platform.calls("POST", "messages").get(0).text();
    assertFalse(body.contains("Ada") || body.contains("Turing") || body.contains("B7"), body);
    List<JsonNode> sent = new java.util.ArrayList<>();
    for (String line : body.lines().toList()) {
      sent.add(json(line));
    }
    assertEquals(72, sent.get(0).path("pulse").asInt(), "fields not chosen go as they are");
    assertEquals(sent.get(0).path("ward"), sent.get(1).path("ward"), "deterministic: equal values, equal ciphertexts");
    assertNotEquals(sent.get(0).path("name"), sent.get(1).path("name"));
    io.mysimbdp.cli.seal.Sealer sealer = io.mysimbdp.cli.seal.Sealer.of(io.mysimbdp.cli.seal.SealingKey.load(key));
    assertEquals("Ada Lovelace", sealer.openValue(io.mysimbdp.protocol.SealedEnvelope.parseBase64(sent.get(0).path("name").path("$sealed").asText())));

    assertEquals(2, cli("send", records.toString(), "--seal", "name").exit(), "--seal without --key-file is a usage error");
  }

  @Test
  void sendTakesAJsonArrayOrOneObject() throws IOException {
    platform.routes.put("POST messages", TenantCommandsTest::accepted);
    Path array = dir.resolve("array.json");
    Files.writeString(array, "[\n  {\"a\": 1},\n  {\"a\": [2, 3]},\n  {\"a\": {\"b\": \"c\"}},\n"
        + "  {\"v\": 0.10, \"big\": 12345678901234567890.123456789, \"n\": 98765432109876543210}\n]\n");
    Cli.Run run = cli("send", array.toString());
    assertEquals(0, run.exit(), run::toString);
    assertEquals(
        "{\"a\":1}\n{\"a\":[2,3]}\n{\"a\":{\"b\":\"c\"}}\n{\"v\":0.10,\"big\":12345678901234567890.123456789,\"n\":98765432109876543210}\n",
        platform.calls("POST", "messages").get(0).text(),
        "one record a line, every number as written");

    Path object = dir.resolve("one.json");
    Files.writeString(object, "{\n  \"x\": true\n}\n");
    Cli.Run one = cli("send", object.toString());
    assertEquals(0, one.exit(), one::toString);
    assertTrue(one.out().contains("sent 1 record(s) in 1 request(s)"), one::toString);

    Path broken = dir.resolve("broken.ndjson");
    Files.writeString(broken, "{\"ok\":1}\n{not json\n");
    Cli.Run bad = cli("send", broken.toString());
    assertEquals(1, bad.exit(), bad::toString);
    assertTrue(bad.err().contains("the input is not NDJSON or JSON at line 2, column 2"), bad::toString);
    Files.writeString(broken, "{\"ok\":1}\n]\n");
    Cli.Run stray = cli("send", broken.toString());
    assertEquals(1, stray.exit(), stray::toString);
    assertTrue(stray.err().contains("the input is not NDJSON or JSON at line 2"), stray::toString);
  }

  @Test
  void sendRetriesA429AfterItsRetryAfterAndA503WithTheSameKey() throws IOException {
    Path records = dir.resolve("r.ndjson");
    Files.writeString(records, "{\"n\":1}\n{\"n\":2}\n");
    Reply busy = new Reply(429, Map.of("Retry-After", "1"), new ApiError(429, "queue_full", "the queue is full"));
    Reply unavailable = new Reply(503, Map.of("Retry-After", "0"), new ApiError(503, "node_busy", "busy"));
    Reply ok = Reply.json(202, Map.of("accepted", 2));
    platform.script("POST messages", busy, unavailable, ok);

    Cli.Run run = cli("send", records.toString());
    assertEquals(0, run.exit(), run::toString);
    List<Call> calls = platform.calls("POST", "messages");
    assertEquals(3, calls.size());
    assertEquals(1, calls.stream().map(c -> c.header("Idempotency-Key")).distinct().count(), "one request, sent again");
    assertTrue(calls.get(1).nanos() - calls.get(0).nanos() >= 900_000_000L, "waited for Retry-After: 1");
    assertTrue(run.err().contains("retrying request 0 (2 records) in 1.0 s: 429 queue_full"), run::toString);
    assertTrue(run.out().contains("(2 sent again)"), run::toString);
  }

  @Test
  void sendStopsAtARefusedRequestAndSaysWhatWasAccepted() throws IOException {
    Path records = dir.resolve("r.ndjson");
    Files.writeString(records, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
    platform.script("POST messages", Reply.json(202, Map.of("accepted", 2)), Reply.json(413, new ApiError(413, "too_large", "too big")));

    Cli.Run run = cli("send", records.toString(), "--batch", "2");
    assertEquals(1, run.exit(), run::toString);
    assertTrue(run.err().contains("error: request 1 (records 3..3): 413 too_large: too big"), run::toString);
    assertTrue(run.err().contains("2 record(s) were accepted before it"), run::toString);
    assertEquals(2, cli("send", records.toString(), "--batch", "0").exit(), "usage error");
  }

  @Test
  void functionsPutTestActivateAndARateLimitedCallSentAgain() throws IOException {
    platform.script(
        "PUT functions/clean",
        new Reply(429, Map.of("Retry-After", "0"), new ApiError(429, "rate_limited", "slow down")),
        Reply.json(200, Map.of("name", "clean", "version", 2)));
    platform.script("POST functions/clean/test", Reply.json(200, Map.of("results", List.of(Map.of("outputs", List.of())))));
    platform.script("POST functions/clean/active", Reply.json(200, Map.of("name", "clean", "active", 1)));
    platform.script("GET functions", Reply.json(200, Map.of("functions", List.of(Map.of("name", "clean")))));
    platform.script("PUT functions/alice", Reply.json(200, Map.of("name", "alice", "version", 1)));
    platform.script("PUT functions/raw", Reply.json(422, new ApiError(422, "invalid_function", "line 1, column 3: unexpected token")));

    Cli.Run put = cli("functions", "put", "clean", "--jsonata", "$");
    assertEquals(0, put.exit(), put::toString);
    List<Call> puts = platform.calls("PUT", "functions/clean");
    assertEquals(2, puts.size(), "the 429 was sent again");
    assertEquals("$", json(puts.get(1).text()).path("jsonata").asText());
    assertEquals(2, json(put.out()).path("version").asInt());

    Path samples = dir.resolve("samples.json");
    Files.writeString(samples, "[{\"result\":\"7.27\"}]");
    Cli.Run test = cli("functions", "test", "clean", samples.toString());
    assertEquals(0, test.exit(), test::toString);
    assertEquals("application/json", platform.calls("POST", "functions/clean/test").get(0).header("Content-Type"));
    Path ndjson = dir.resolve("samples.ndjson");
    Files.writeString(ndjson, "{\"a\":1}\n{\"a\":2}\n");
    cli("functions", "test", "clean", ndjson.toString());
    assertEquals("application/x-ndjson", platform.calls("POST", "functions/clean/test").get(1).header("Content-Type"));

    Cli.Run activate = cli("functions", "activate", "clean", "1");
    assertEquals(0, activate.exit(), activate::toString);
    assertEquals(1, json(platform.calls("POST", "functions/clean/active").get(0).text()).path("version").asInt());

    assertTrue(cli("functions", "list").out().contains("\"clean\""));

    Cli.Run builtin = cli("functions", "put", "alice", "--builtin", "alice", "--config", "{\"keep\":[\"result\"]}");
    assertEquals(0, builtin.exit(), builtin::toString);
    JsonNode sent = json(platform.calls("PUT", "functions/alice").get(0).text());
    assertEquals("alice", sent.path("builtin").asText());
    assertEquals("result", sent.path("config").path("keep").get(0).asText());

    Path jsonata = dir.resolve("raw.jsonata");
    Files.writeString(jsonata, "$ ~>");
    Cli.Run invalid = cli("functions", "put", "raw", "--file", jsonata.toString());
    assertEquals(1, invalid.exit(), invalid::toString);
    assertTrue(invalid.err().contains("422 invalid_function: line 1, column 3"), invalid::toString);
    assertEquals("application/x-jsonata", platform.calls("PUT", "functions/raw").get(0).header("Content-Type"));
    assertEquals(2, cli("functions", "put", "x").exit(), "one source is required");
    assertEquals(2, cli("functions", "put", "x", "--jsonata", "$", "--cel", "true").exit(), "only one source");
  }

  @Test
  void categoriesQualityReportsStats() throws IOException {
    platform.script("PUT categories/water", Reply.json(200, Map.of("category", "water", "function", "clean", "collection", "water")));
    platform.script("GET categories", Reply.json(200, Map.of("categories", List.of(Map.of("category", "water")))));
    platform.script("DELETE categories/water", new Reply(204, Map.of(), null));
    platform.script("PUT quality", Reply.json(200, Map.of("rules", List.of())));
    platform.script("GET quality", Reply.json(200, Map.of("rules", List.of(Map.of("name", "has-result", "passRate", 0.99)))));
    platform.script(
        "GET reports",
        Reply.json(200, Map.of("reports", List.of(Map.of(
            "end_report", "2026-01-31T08:00:10Z", "node", "akka://mysimbdp@127.0.0.1:2552", "number_of_messages", 1200,
            "total_ingestion_size", 2048, "average_ingestion_time", 1.5, "throughput", 120.0, "latency_p99_ms", 30, "backlog", 4, "errors", 1)))));
    platform.script("GET stats", Reply.json(200, Map.of("tenant", "alice", "stored", 42)));

    Cli.Run put = cli("categories", "put", "water", "--function", "clean", "--collection", "water");
    assertEquals(0, put.exit(), put::toString);
    JsonNode mapping = json(platform.calls("PUT", "categories/water").get(0).text());
    assertEquals("clean", mapping.path("function").asText());
    assertEquals("water", mapping.path("collection").asText());
    assertTrue(cli("categories", "list").out().contains("\"water\""));
    Cli.Run delete = cli("categories", "delete", "water");
    assertEquals(0, delete.exit(), delete::toString);
    assertTrue(delete.out().contains("deleted category water"));

    Path rules = dir.resolve("rules.json");
    Files.writeString(rules, "[{\"name\":\"has-result\",\"cel\":\"has(record.result)\",\"action\":\"TAG\",\"threshold\":0.9}]");
    Cli.Run quality = cli("quality", "put", rules.toString());
    assertEquals(0, quality.exit(), quality::toString);
    assertEquals("has-result", json(platform.calls("PUT", "quality").get(0).text()).path("rules").get(0).path("name").asText(),
        "an array is sent as {\"rules\": [...]}");
    assertTrue(cli("quality", "show").out().contains("0.99"));

    Cli.Run reports = cli("reports", "--from", "2026-01-31T08:00:00Z", "--to", "2026-01-31T09:00:00Z", "--limit", "5");
    assertEquals(0, reports.exit(), reports::toString);
    Call call = platform.calls("GET", "reports").get(0);
    assertEquals("2026-01-31T08:00:00Z", call.query().get("from"));
    assertEquals("5", call.query().get("limit"));
    assertTrue(reports.out().matches("(?s)END\\s+NODE\\s+MESSAGES.*\n2026-01-31T08:00:10Z\\s+akka://mysimbdp@127\\.0\\.0\\.1:2552\\s+1200\\s+2.0 KiB\\s+1\\.5\\s+120\\s+30\\s+4\\s+1\n.*"), reports::toString);
    assertEquals(2, cli("reports", "--from", "yesterday").exit(), "a bad instant is a usage error");

    Cli.Run stats = cli("stats");
    assertTrue(stats.out().matches("(?s).*stored:\\s+42.*"), stats::toString);
  }

  @Test
  void deadLettersListPagesAndReplayLoopsUntilNoneRemainOrNothingMoves() throws IOException {
    platform.routes.put("GET dead-letters", call -> call.query().get("after") == null
        ? Reply.json(200, Map.of("deadLetters", List.of(Map.of("id", "d1", "stage", "function"), Map.of("id", "d2", "stage", "function")), "next", "d2"))
        : Reply.json(200, Map.of("deadLetters", List.of(Map.of("id", "d3", "stage", "function")))));
    Cli.Run page = cli("dead-letters", "list", "--stage", "function", "--limit", "2");
    assertEquals(0, page.exit(), page::toString);
    assertEquals(2, page.out().lines().count(), page::toString);
    assertTrue(page.err().contains("more: --after d2"), page::toString);
    Call first = platform.calls("GET", "dead-letters").get(0);
    assertEquals("function", first.query().get("stage"));
    assertEquals("2", first.query().get("limit"));
    Cli.Run all = cli("dead-letters", "list", "--all");
    assertEquals(3, all.out().lines().count(), all::toString);
    assertEquals("d2", platform.calls("GET", "dead-letters").get(2).query().get("after"));

    platform.script(
        "POST dead-letters/replay",
        Reply.json(200, Map.of("replayed", 100, "stored", 100, "failedAgain", 0, "remaining", 50)),
        Reply.json(200, Map.of("replayed", 50, "stored", 48, "failedAgain", 2, "remaining", 2)),
        Reply.json(200, Map.of("replayed", 2, "stored", 0, "failedAgain", 2, "remaining", 2)));
    Cli.Run replay = cli("dead-letters", "replay", "--source", "f1", "--limit", "100");
    assertEquals(0, replay.exit(), replay::toString);
    List<Call> rounds = platform.calls("POST", "dead-letters/replay");
    assertEquals(3, rounds.size(), "stops when a round stores nothing and leaves as many: " + replay);
    JsonNode body = json(rounds.get(0).text());
    assertEquals("function", body.path("stage").asText());
    assertEquals("f1", body.path("source").asText());
    assertEquals(100, body.path("limit").asInt());
    assertTrue(replay.out().contains("replayed 152, stored 148, failed again 4, remaining 2"), replay::toString);
  }

  @Test
  void filesDeleteRemovesEachAndFailsForAnUnknownOne() {
    String id = platform.addStaged("a.csv", "x\n1\n".getBytes(StandardCharsets.UTF_8)).id();
    Cli.Run run = cli("files", "delete", id, "nope");
    assertEquals(1, run.exit(), run::toString);
    assertTrue(run.out().contains("deleted " + id), run::toString);
    assertTrue(run.err().contains("error: nope: 404 file_not_found"), run::toString);
    assertTrue(platform.staged.isEmpty());
    assertTrue(platform.requests.contains("DELETE /v1/tenants/alice/files/" + id));
    Cli.Run list = cli("files", "list");
    assertEquals(0, list.exit(), list::toString);
    assertTrue(list.out().contains("0 of 100 file slots used"), list::toString);
    assertFalse(run.toString().contains(KEY), "the key is never printed");
  }
}
