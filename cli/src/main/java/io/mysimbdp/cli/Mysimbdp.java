package io.mysimbdp.cli;

import io.mysimbdp.protocol.TenantId;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpTimeoutException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code mysimbdp}: the tenant command line. Global options may come before or after the command;
 * each has an environment variable. Exit codes: 0 ok, 1 a failure (an upload, the job, the
 * platform's answer), 2 a usage error.
 */
@Command(
    name = "mysimbdp",
    mixinStandardHelpOptions = true,
    versionProvider = Mysimbdp.Version.class,
    description = {
      "The mysimbdp tenant client: the whole tenant API from a shell.",
      "Batch: upload, ingest, files. Stream: stream, send. Shaping: functions, categories, quality."
          + " Watching: reports, stats, dead-letters. Shell completion: completion."
    },
    subcommands = {
      UploadCommand.class,
      IngestCommand.class,
      FilesCommand.class,
      StreamCommand.class,
      SendCommand.class,
      FunctionsCommand.class,
      CategoriesCommand.class,
      QualityCommand.class,
      ReportsCommand.class,
      StatsCommand.class,
      DeadLettersCommand.class,
      DataCommand.class,
      ConstraintsCommand.class,
      CompletionCommand.class,
      KeygenCommand.class,
      ReadCommand.class,
      CommandLine.HelpCommand.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:ok", "1:a failure (an upload or the ingestion failed, the platform answered an error)", "2:usage error"})
public final class Mysimbdp implements Callable<Integer> {

  @Option(
      names = "--url",
      scope = ScopeType.INHERIT,
      paramLabel = "URL",
      defaultValue = "${env:MYSIMBDP_URL:-http://localhost:8080}",
      description = "the platform's base URL (env MYSIMBDP_URL; default ${DEFAULT-VALUE})")
  URI url;

  @Option(
      names = "--tenant",
      scope = ScopeType.INHERIT,
      paramLabel = "ID",
      defaultValue = "${env:MYSIMBDP_TENANT}",
      description = "your tenant id (env MYSIMBDP_TENANT)")
  String tenant;

  @Option(
      names = "--key",
      scope = ScopeType.INHERIT,
      paramLabel = "KEY",
      defaultValue = "${env:MYSIMBDP_API_KEY}",
      showDefaultValue = CommandLine.Help.Visibility.NEVER,
      description = "your tenant API key (env MYSIMBDP_API_KEY, better than the command line); never printed")
  String key;

  @Spec CommandSpec spec;

  /** Whether output goes to a terminal (progress bars) or to a pipe or file (plain lines). */
  static volatile boolean terminal = isTerminal();

  /**
   * A console that is a terminal. From JDK 22 {@code System.console()} answers a console even when
   * output is redirected; {@code Console.isTerminal()} (JDK 22+) tells, asked reflectively as this
   * CLI runs on 17.
   */
  static boolean isTerminal() {
    java.io.Console console = System.console();
    if (console == null) {
      return false;
    }
    try {
      return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
    } catch (NoSuchMethodException beforeJdk22) {
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The configured command line; tests call it too, with their own out and err. */
  public static CommandLine commandLine() {
    CommandLine commandLine = new CommandLine(new Mysimbdp());
    commandLine.setExecutionExceptionHandler(new Failures());
    return commandLine;
  }

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "Missing command: see mysimbdp --help");
  }

  /** A client for the tenant the options name; a usage error if tenant or key are missing. */
  PlatformClient client(CommandSpec command) {
    if (tenant == null || tenant.isBlank()) {
      throw new ParameterException(command.commandLine(), "Missing tenant: give --tenant or set MYSIMBDP_TENANT");
    }
    TenantId.problem(tenant)
        .ifPresent(problem -> {
          throw new ParameterException(command.commandLine(), "Invalid --tenant: " + problem);
        });
    if (key == null || key.isBlank()) {
      throw new ParameterException(command.commandLine(), "Missing API key: set MYSIMBDP_API_KEY or give --key");
    }
    if (url.getScheme() == null || !(url.getScheme().equals("http") || url.getScheme().equals("https")) || url.getHost() == null) {
      throw new ParameterException(command.commandLine(), "Invalid --url '" + url + "': expected http(s)://host[:port]");
    }
    return new PlatformClient(url, tenant, key);
  }

  /** What a command that throws prints: one line naming the problem, exit code 1. */
  private static final class Failures implements IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception e, CommandLine commandLine, ParseResult parseResult) {
      PrintWriter err = commandLine.getErr();
      if (e instanceof PlatformException p) {
        err.println("error: " + p.status() + " " + p.describe());
      } else if (e instanceof ConnectException) {
        Mysimbdp root = (Mysimbdp) commandLine.getCommandSpec().root().userObject();
        err.println("error: cannot connect to " + root.url + " (" + e.getClass().getSimpleName() + ")");
      } else if (e instanceof HttpTimeoutException) {
        err.println("error: the platform did not answer in time: " + e.getMessage());
      } else if (e instanceof IOException) {
        err.println("error: " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
      } else if (e instanceof InterruptedException) {
        err.println("error: interrupted");
      } else {
        err.println("error: " + e);
        e.printStackTrace(err);
      }
      err.flush();
      return 1;
    }
  }

  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Mysimbdp.class.getPackage().getImplementationVersion();
      return new String[] {"mysimbdp-cli " + (version == null ? "dev" : version)};
    }
  }
}
