package io.mysimbdp.cli;

import io.mysimbdp.cli.seal.SealingKey;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code mysimbdp keygen --out K}: a new sealing key file (mode 0600); the key never reaches the platform. */
@Command(
    name = "keygen",
    mixinStandardHelpOptions = true,
    description = {
      "Makes a new key for sealing fields (upload --seal, read --key-file) and writes it to a new file, mode 0600.",
      "Keep it safe and backed up: the platform cannot read sealed fields, and nobody can recover them without it.",
      "Rotation: make a new key (a new key id) for new data; read with every key file still in use."
    })
final class KeygenCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--out", required = true, paramLabel = "FILE", description = "the key file to create (never overwritten)")
  Path out;

  @Option(names = "--key-id", paramLabel = "ID", description = "the key id (default k-<date>-<random>); 1-64 of A-Z a-z 0-9 . _ -")
  String keyId;

  @Override
  public Integer call() throws Exception {
    if (Files.exists(out)) {
      throw new ParameterException(spec.commandLine(), "--out " + out + " exists; a key file is never overwritten");
    }
    SealingKey key;
    try {
      key = SealingKey.generate(keyId);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "Invalid --key-id: " + e.getMessage());
    }
    key.save(out);
    PrintWriter w = spec.commandLine().getOut();
    w.println("wrote key " + key.keyId() + " to " + out + " (mode 0600; back it up: sealed data cannot be read without it)");
    w.flush();
    return 0;
  }
}
