package io.mysimbdp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mysimbdp quality show|put|put-rule|delete-rule}: data quality rules and their pass rates. */
@Command(
    name = "quality",
    mixinStandardHelpOptions = true,
    description = "Your quality rules (TAG or DEAD_LETTER, a threshold each) and their measured pass rates.",
    subcommands = {QualityCommand.Show.class, QualityCommand.Put.class, QualityCommand.PutRule.class, QualityCommand.DeleteRule.class})
final class QualityCommand {

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Each rule with its counts, pass rate, threshold and whether it is acceptable.")
  static final class Show implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      Json.pretty(spec.commandLine().getOut(), Commands.client(spec).getJson("quality"));
      return 0;
    }
  }

  @Command(
      name = "put",
      mixinStandardHelpOptions = true,
      description = "Replaces every rule with those of RULES ({\"rules\":[...]} or just the array); their counts start again.")
  static final class Put implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RULES", description = "a JSON file, or - for standard input")
    String rules;

    @Override
    public Integer call() throws Exception {
      JsonNode given;
      try {
        given = PlatformClient.READER.readTree(Commands.read(spec, rules, FunctionsCommand.MAX_BODY));
      } catch (java.io.IOException e) {
        throw new ParameterException(spec.commandLine(), "RULES is not JSON: " + e.getMessage());
      }
      JsonNode body = given != null && given.isArray() ? Json.object().set("rules", given) : given;
      if (body == null || !body.isObject()) {
        throw new ParameterException(spec.commandLine(), "RULES must be {\"rules\":[...]} or an array of rules");
      }
      Json.pretty(spec.commandLine().getOut(), Commands.client(spec).call("PUT", "quality", "application/json", Json.bytes(body)));
      return 0;
    }
  }

  @Command(name = "put-rule", mixinStandardHelpOptions = true, description = "Adds or replaces one rule (its counts start again).")
  static final class PutRule implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1", paramLabel = "RULE", description = "the rule as JSON: a file, or - for standard input")
    String rule;

    @Override
    public Integer call() throws Exception {
      byte[] body = Commands.read(spec, rule, FunctionsCommand.MAX_BODY);
      Json.pretty(
          spec.commandLine().getOut(),
          Commands.client(spec).call("PUT", "quality/rules/" + PlatformClient.encode(name), "application/json", body));
      return 0;
    }
  }

  @Command(name = "delete-rule", mixinStandardHelpOptions = true, description = "Removes one rule.")
  static final class DeleteRule implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() throws Exception {
      Commands.client(spec).call("DELETE", "quality/rules/" + PlatformClient.encode(name), null, null);
      spec.commandLine().getOut().println("deleted rule " + name);
      spec.commandLine().getOut().flush();
      return 0;
    }
  }
}
