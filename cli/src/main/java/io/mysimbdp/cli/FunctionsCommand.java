package io.mysimbdp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mysimbdp functions list|show|put|test|activate|reset|delete}: the tenant's ingestion functions. */
@Command(
    name = "functions",
    mixinStandardHelpOptions = true,
    description = {
      "Your ingestion functions (JSONata, CEL, built-in): a new version with put (compiled at once: 422 with line and"
          + " column), a dry run with test, roll back with activate, re-enable a DISABLED one with reset.",
      "put, test, activate and reset share a rate limit: a 429 is sent again after its Retry-After."
    },
    subcommands = {
      FunctionsCommand.List.class,
      FunctionsCommand.Show.class,
      FunctionsCommand.Put.class,
      FunctionsCommand.Test.class,
      FunctionsCommand.Activate.class,
      FunctionsCommand.Reset.class,
      FunctionsCommand.Delete.class
    })
final class FunctionsCommand {
  /** The platform's bound on these bodies (mysimbdp.functions.max-body). */
  static final long MAX_BODY = 256L << 10;

  static String path(String name) {
    return "functions/" + PlatformClient.encode(name);
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Your functions (GET functions).")
  static final class List implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      Json.pretty(spec.commandLine().getOut(), Commands.client(spec).getJson("functions"));
      return 0;
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "A function's versions, the active one and its runtime status.")
  static final class Show implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() throws Exception {
      Json.pretty(spec.commandLine().getOut(), Commands.client(spec).getJson(path(name)));
      return 0;
    }
  }

  /** Exactly one way to give the function. */
  static final class Source {
    @Option(names = "--jsonata", paramLabel = "EXPR", description = "a JSONata expression")
    String jsonata;

    @Option(names = "--cel", paramLabel = "EXPR", description = "a CEL expression")
    String cel;

    @Option(names = "--builtin", paramLabel = "NAME", description = "a built-in function (with --config)")
    String builtin;

    @Option(
        names = "--file",
        paramLabel = "FILE",
        description = "FILE or -: .jsonata (raw JSONata), .cel (CEL), otherwise the JSON body ({\"jsonata\"|\"cel\"|\"builtin\",...})")
    String file;
  }

  @Command(
      name = "put",
      mixinStandardHelpOptions = true,
      description = "A new version of NAME, made active (PUT functions/NAME).",
      footer = {
        "%nExamples:",
        "  mysimbdp functions put clean --jsonata '$merge([$, {\"result\": $number(result)}])'",
        "  mysimbdp functions put clean --file clean.jsonata",
        "  mysimbdp functions put alice --builtin alice --config '{\"keep\":[\"result\"]}'"
      })
  static final class Put implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--config", paramLabel = "JSON", description = "the built-in function's configuration (a JSON object)")
    String config;

    @Override
    public Integer call() throws Exception {
      String contentType = "application/json";
      byte[] body;
      ObjectNode json = Json.object();
      if (source.jsonata != null) {
        json.put("jsonata", source.jsonata);
        body = Json.bytes(json);
      } else if (source.cel != null) {
        json.put("cel", source.cel);
        body = Json.bytes(json);
      } else if (source.builtin != null) {
        json.put("builtin", source.builtin);
        if (config != null) {
          try {
            json.set("config", PlatformClient.READER.readTree(config));
          } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ParameterException(spec.commandLine(), "--config is not JSON: " + e.getOriginalMessage());
          }
        }
        body = Json.bytes(json);
      } else {
        byte[] bytes = Commands.read(spec, source.file, MAX_BODY);
        if (source.file.endsWith(".jsonata")) {
          contentType = "application/x-jsonata";
          body = bytes;
        } else if (source.file.endsWith(".cel")) {
          json.put("cel", new String(bytes, StandardCharsets.UTF_8));
          body = Json.bytes(json);
        } else {
          body = bytes;
        }
      }
      if (config != null && source.builtin == null) {
        throw new ParameterException(spec.commandLine(), "--config goes with --builtin");
      }
      JsonNode answer = Commands.client(spec).call("PUT", path(name), contentType, body);
      Json.pretty(spec.commandLine().getOut(), answer);
      return 0;
    }
  }

  @Command(
      name = "test",
      mixinStandardHelpOptions = true,
      description = "A dry run of NAME on sample records (a JSON array or NDJSON, at most 100): outputs and errors per record.")
  static final class Test implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1", paramLabel = "SAMPLES", description = "a file of sample records, or - for standard input")
    String samples;

    @Override
    public Integer call() throws Exception {
      byte[] body = Commands.read(spec, samples, MAX_BODY);
      JsonNode answer = Commands.client(spec).call("POST", path(name) + "/test", Commands.jsonOrNdjson(body), body);
      Json.pretty(spec.commandLine().getOut(), answer);
      return 0;
    }
  }

  @Command(name = "activate", mixinStandardHelpOptions = true, description = "Makes VERSION of NAME the active one (roll back or forward).")
  static final class Activate implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1", paramLabel = "VERSION")
    int version;

    @Override
    public Integer call() throws Exception {
      ObjectNode body = Json.object().put("version", version);
      JsonNode answer = Commands.client(spec).call("POST", path(name) + "/active", "application/json", Json.bytes(body));
      Json.pretty(spec.commandLine().getOut(), answer);
      return 0;
    }
  }

  @Command(name = "reset", mixinStandardHelpOptions = true, description = "Re-enables NAME after the platform DISABLED it.")
  static final class Reset implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() throws Exception {
      Json.pretty(spec.commandLine().getOut(), Commands.client(spec).call("POST", path(name) + "/reset", null, null));
      return 0;
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Deletes NAME and all its versions.")
  static final class Delete implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() throws Exception {
      Commands.client(spec).call("DELETE", path(name), null, null);
      spec.commandLine().getOut().println("deleted function " + name);
      spec.commandLine().getOut().flush();
      return 0;
    }
  }
}
