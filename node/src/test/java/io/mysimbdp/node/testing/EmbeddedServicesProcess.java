package io.mysimbdp.node.testing;

import io.mysimbdp.node.embedded.EmbeddedAmqpBroker;
import io.mysimbdp.node.embedded.EmbeddedMongo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The embedded store (and broker) in a JVM of their own, as MongoDB and RabbitMQ are in production:
 * a node measured for its own memory points at them with {@code MONGODB_URI} and {@code AMQP_URI}
 * instead of carrying them in its heap. {@link #main} prints {@code MONGODB_URI=...} and
 * {@code AMQP_URI=...} lines once both listen, and runs until its standard input closes.
 */
public final class EmbeddedServicesProcess implements AutoCloseable {
  public final Process process;
  public final String mongoUri;
  public final String amqpUri;

  private EmbeddedServicesProcess(Process process, String mongoUri, String amqpUri) {
    this.process = process;
    this.mongoUri = mongoUri;
    this.amqpUri = amqpUri;
  }

  /** Starts the services under {@code dir}; answers once both listen. */
  public static EmbeddedServicesProcess start(Path dir, String... jvmOptions) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java));
    command.addAll(List.of(jvmOptions));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), EmbeddedServicesProcess.class.getName(), dir.toString()));
    Process process = new ProcessBuilder(command).redirectError(dir.resolveSibling("embedded-services.log").toFile()).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String mongo = null;
    String amqp = null;
    for (String line; (mongo == null || amqp == null) && (line = out.readLine()) != null; ) {
      if (line.startsWith("MONGODB_URI=")) {
        mongo = line.substring("MONGODB_URI=".length());
      } else if (line.startsWith("AMQP_URI=")) {
        amqp = line.substring("AMQP_URI=".length());
      }
    }
    if (mongo == null || amqp == null) {
      process.destroyForcibly();
      throw new IOException("the embedded services did not start: see " + dir.resolveSibling("embedded-services.log"));
    }
    return new EmbeddedServicesProcess(process, mongo, amqp);
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(Duration.ofSeconds(30).toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    try (EmbeddedMongo mongo = EmbeddedMongo.start(dir.resolve("mongodb"), 0);
        EmbeddedAmqpBroker broker = EmbeddedAmqpBroker.start(dir.resolve("amqp"), FreePorts.next())) {
      URI amqp = broker.uri();
      System.out.println("MONGODB_URI=" + mongo.connectionString());
      System.out.println("AMQP_URI=" + amqp);
      System.out.flush();
      while (System.in.read() >= 0) {
        // until the parent closes our standard input (or ends us with SIGTERM)
      }
    }
  }
}
