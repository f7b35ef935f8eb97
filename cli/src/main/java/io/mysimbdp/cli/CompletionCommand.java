package io.mysimbdp.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code mysimbdp completion}: the bash (and zsh) completion script of every command and option. */
@Command(
    name = "completion",
    mixinStandardHelpOptions = true,
    description = {
      "Prints the shell completion script (bash; zsh through bashcompinit).",
      "Use it now:      source <(mysimbdp completion)",
      "Or for good:     mysimbdp completion > ~/.local/share/bash-completion/completions/mysimbdp"
    })
final class CompletionCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().getOut().print(AutoComplete.bash("mysimbdp", spec.root().commandLine()));
    spec.commandLine().getOut().flush();
    return 0;
  }
}
