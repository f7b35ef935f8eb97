package io.mysimbdp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code mysimbdp reports}: the tenant's performance reports, one row per interval. */
@Command(
    name = "reports",
    mixinStandardHelpOptions = true,
    description = "Your performance reports (one per report interval, 10 s by default) that ended in [--from, --to): default the last hour.")
final class ReportsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--from", paramLabel = "INSTANT", description = "ISO-8601 instant, e.g. 2026-01-31T08:00:00Z")
  String from;

  @Option(names = "--to", paramLabel = "INSTANT", description = "ISO-8601 instant")
  String to;

  @Option(names = "--limit", paramLabel = "N", description = "at most N reports")
  Integer limit;

  @Option(names = "--json", description = "print the platform's JSON answer (every field)")
  boolean json;

  @Override
  public Integer call() throws Exception {
    StringBuilder query = new StringBuilder("reports");
    char separator = '?';
    for (String[] parameter : new String[][] {{"from", from}, {"to", to}}) {
      if (parameter[1] != null) {
        try {
          Instant.parse(parameter[1]);
        } catch (DateTimeParseException e) {
          throw new ParameterException(spec.commandLine(), "--" + parameter[0] + " '" + parameter[1] + "' is not an ISO-8601 instant (2026-01-31T08:00:00Z)");
        }
        query.append(separator).append(parameter[0]).append('=').append(PlatformClient.encode(parameter[1]));
        separator = '&';
      }
    }
    if (limit != null) {
      query.append(separator).append("limit=").append(limit);
    }
    JsonNode answer = Commands.client(spec).getJson(query.toString());
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Json.pretty(out, answer);
      return 0;
    }
    Table table = new Table("END", "NODE", "MESSAGES", "SIZE", "AVG MS", "REC/S", "P99 MS", "BACKLOG", "ERRORS").right(2, 3, 4, 5, 6, 7, 8);
    for (JsonNode report : Json.items(answer)) {
      table.row(
          report.path("end_report").asText(),
          report.path("node").asText(),
          report.path("number_of_messages").asLong(),
          Sizes.format(report.path("total_ingestion_size").asLong()),
          String.format(Locale.ROOT, "%.1f", report.path("average_ingestion_time").asDouble()),
          String.format(Locale.ROOT, "%.0f", report.path("throughput").asDouble()),
          report.path("latency_p99_ms").asLong(),
          report.path("backlog").asLong(),
          report.path("errors").asLong());
    }
    if (!table.isEmpty()) {
      table.print(out);
    }
    out.println(Json.items(answer).size() + " report(s)");
    out.flush();
    return 0;
  }
}
