package io.mysimbdp.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.Optional;
import picocli.CommandLine;

/** Runs the CLI in-process, as a user would from a shell, capturing what it prints. */
final class Cli {
  record Run(int exit, String out, String err) {
    /** The summary-table row of {@code file}: its name, then its result. */
    Optional<String> row(String file) {
      return Arrays.stream(out.split("\n"))
          .filter(line -> line.matches("\\Q" + file + "\\E\\s+(uploaded|skipped|failed)\\s.*"))
          .findFirst();
    }

    @Override
    public String toString() {
      return "exit " + exit + "\n--- out\n" + out + "--- err\n" + err;
    }
  }

  private Cli() {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = Mysimbdp.commandLine();
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    int exit = commandLine.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }
}
