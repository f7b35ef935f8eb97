package io.mysimbdp.node.embedded;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.qpid.server.SystemLauncher;
import org.apache.qpid.server.SystemLauncherListener;
import org.apache.qpid.server.model.Broker;
import org.apache.qpid.server.model.Port;
import org.apache.qpid.server.model.State;
import org.apache.qpid.server.model.SystemConfig;
import org.apache.qpid.server.model.VirtualHost;
import org.apache.qpid.server.model.VirtualHostNode;
import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An AMQP 0-9-1 broker (Apache Qpid Broker-J 9.2.1) running inside this JVM: the zero-install default
 * for a single node.
 *
 * <ul>
 *   <li>One AMQP 0-9-1 port, bound to 127.0.0.1 only; no HTTP management, no other port.</li>
 *   <li>Everything lives under the directory given to {@link #start}: the Derby store of the virtual host
 *       {@value #VIRTUAL_HOST} (durable exchanges, queues, bindings and persistent messages, which survive a
 *       restart), the password file and a lock file. The broker-level configuration (port, user, limits) is
 *       not persisted: it is generated in code on every start, so it always follows the caller's arguments.</li>
 *   <li>A single user {@value #USERNAME}, PLAIN over plain TCP (loopback only); its password is generated on the
 *       first start (SecureRandom, URL-safe) and kept in {@value #PASSWORD_FILE} (0600 where POSIX).</li>
 *   <li>The broker refuses messages larger than {@code maxMessageBytes}: the publishing channel is closed with
 *       reply code 311 (message too large).</li>
 * </ul>
 *
 * <p>Differences from RabbitMQ that code using this broker must know (AMQP 0-9-1 as seen by the RabbitMQ
 * Java client):
 * <ul>
 *   <li>{@code x-single-active-consumer=true} is accepted and mapped to Qpid's {@code maximumLiveConsumers=1}.</li>
 *   <li>{@code x-dead-letter-exchange} (and other RabbitMQ-only arguments such as {@code x-message-ttl},
 *       {@code x-max-length}) are <em>refused</em>: the declaring channel is closed. The Qpid way is the queue
 *       argument {@code alternateExchange=<exchange name>} (the exchange must exist).</li>
 *   <li>Qpid re-queues a message on {@code basic.reject/nack(requeue=false)} unless the queue has a maximum number
 *       of delivery attempts; this broker sets the default ({@code queue.maximumDeliveryAttempts}) to 1, so a
 *       rejected message goes to the queue's alternate exchange, or is dropped, as on RabbitMQ.</li>
 * </ul>
 *
 * <p>One broker per directory (a file lock enforces it). Start blocks until the broker is ready.
 */
public final class EmbeddedAmqpBroker implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedAmqpBroker.class);

  public static final String USERNAME = "mysimbdp";
  public static final String VIRTUAL_HOST = "default";
  public static final long DEFAULT_MAX_MESSAGE_BYTES = 16L * 1024 * 1024;

  static final String PASSWORD_FILE = "amqp-password";
  private static final String LOCK_FILE = "broker.lock";
  private static final String INITIAL_CONFIG_FILE = ".broker-initial-config.json";
  private static final String DERBY_DIR = "derby";
  private static final String PORT_NAME = "AMQP";
  private static final String LOOPBACK = "127.0.0.1";
  private static final Pattern URL_SAFE = Pattern.compile("[A-Za-z0-9_-]{16,}");
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

  // Fixed ids: the broker-level config is rebuilt on each start, the Derby store must see the same parent.
  private static final String BROKER_ID = "c5e0a1de-7b1e-4c2a-9d7e-6d7973696d01";
  private static final String VHN_ID = "c5e0a1de-7b1e-4c2a-9d7e-6d7973696d02";

  private final SystemLauncher launcher;
  private final FileLock dirLock;
  private final Path dir;
  private final int port;
  private final String password;
  private final URI uri;
  private final AtomicBoolean closed = new AtomicBoolean();

  private EmbeddedAmqpBroker(SystemLauncher launcher, FileLock dirLock, Path dir, int port, String password) {
    this.launcher = launcher;
    this.dirLock = dirLock;
    this.dir = dir;
    this.port = port;
    this.password = password;
    this.uri = URI.create("amqp://" + USERNAME + ":" + password + "@" + LOOPBACK + ":" + port + "/" + VIRTUAL_HOST);
  }

  /** Starts with the default limit of {@value #DEFAULT_MAX_MESSAGE_BYTES} bytes per message. */
  public static EmbeddedAmqpBroker start(Path dir, int port) throws IOException {
    return start(dir, port, DEFAULT_MAX_MESSAGE_BYTES);
  }

  /**
   * Starts a broker on 127.0.0.1:{@code port} (0 picks a free port, see {@link #port()}) with its state under
   * {@code dir}, and blocks until it accepts connections.
   *
   * @throws BindException if the port cannot be bound (typically: in use)
   * @throws IOException if the directory cannot be used (including: another broker holds it) or the broker fails
   */
  public static EmbeddedAmqpBroker start(Path dir, int port, long maxMessageBytes) throws IOException {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0..65535, was " + port);
    }
    if (maxMessageBytes < 1 || maxMessageBytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("maxMessageBytes must be 1.." + Integer.MAX_VALUE + ", was " + maxMessageBytes);
    }
    if (port != 0 && !portIsFree(port)) {
      // Checked first for a clear error without Qpid's stack trace; a port taken in between is caught after start.
      throw bindException(port, null);
    }
    long startNanos = System.nanoTime();
    Path home = createPrivateDirectories(dir.toAbsolutePath().normalize());
    FileLock lock = lockDirectory(home);
    try {
      String password = loadOrCreatePassword(home.resolve(PASSWORD_FILE));
      quietQpidLogging();
      keepDerbyInside(home);
      StartupListener started = new StartupListener();
      SystemLauncher launcher = launch(home, port, maxMessageBytes, password, started);
      int boundPort;
      try {
        boundPort = awaitReady(started, port);
      } catch (IOException | RuntimeException e) {
        shutdownQuietly(launcher);
        throw e;
      }
      removeQpidShutdownHook(started.systemConfig.get());
      EmbeddedAmqpBroker broker = new EmbeddedAmqpBroker(launcher, lock, home, boundPort, password);
      log.info("Embedded AMQP 0-9-1 broker (Qpid Broker-J) listening on {}:{}, vhost '{}', data in {} (started in {} ms)",
          LOOPBACK, boundPort, VIRTUAL_HOST, home, (System.nanoTime() - startNanos) / 1_000_000);
      return broker;
    } catch (IOException | RuntimeException | Error e) {
      releaseQuietly(lock);
      throw e;
    }
  }

  /**
   * Qpid closes its broker from a JVM shutdown hook of its own, which would run at the same time as
   * the node's coordinated shutdown, while tenants still drain into the broker. The node stops the
   * broker itself, after the actor system (see Main), so Qpid's hook is taken out.
   */
  private static void removeQpidShutdownHook(SystemConfig<?> systemConfig) {
    try {
      Object broker = systemConfig.getContainer();
      Class<?> type = broker.getClass();
      while (type != null && java.util.Arrays.stream(type.getDeclaredFields()).noneMatch(f -> f.getName().equals("_shutdownHook"))) {
        type = type.getSuperclass();
      }
      if (type == null) {
        throw new NoSuchFieldException("_shutdownHook in " + broker.getClass());
      }
      java.lang.reflect.Field hookField = type.getDeclaredField("_shutdownHook");
      hookField.setAccessible(true);
      Runtime.getRuntime().removeShutdownHook((Thread) hookField.get(broker));
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.warn("could not take out Qpid's own shutdown hook; on SIGTERM the embedded broker may stop before tenants have drained: {}", e.toString());
    }
  }

  /** {@code amqp://mysimbdp:<password>@127.0.0.1:<port>/default}; contains the password, do not log it. */
  public URI uri() {
    return uri;
  }

  /** The port actually bound (the ephemeral one when started with port 0). */
  public int port() {
    return port;
  }

  public String username() {
    return USERNAME;
  }

  public String password() {
    return password;
  }

  public String virtualHost() {
    return VIRTUAL_HOST;
  }

  public Path directory() {
    return dir;
  }

  /** Stops the broker (waits up to 30 s for a clean shutdown) and releases the directory. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      launcher.shutdown();
      log.info("Embedded AMQP broker on {}:{} stopped", LOOPBACK, port);
    } finally {
      releaseQuietly(dirLock);
    }
  }

  @Override
  public String toString() {
    return "EmbeddedAmqpBroker[" + LOOPBACK + ":" + port + ", " + dir + (closed.get() ? ", closed" : "") + "]";
  }

  // ---------------------------------------------------------------------------------------------------------

  private static SystemLauncher launch(Path home, int port, long maxMessageBytes, String password,
                                       StartupListener listener) throws IOException {
    Path initialConfig = home.resolve(INITIAL_CONFIG_FILE);
    writePrivateFile(initialConfig, new ObjectMapper().writerWithDefaultPrettyPrinter()
        .writeValueAsBytes(brokerConfig(home, port, password)));

    Map<String, String> context = new LinkedHashMap<>();
    String homeDir = home.toString();
    context.put("QPID_WORK", homeDir);
    context.put("qpid.work_dir", homeDir);
    context.put("QPID_HOME", homeDir);
    context.put("qpid.home_dir", homeDir);
    context.put("qpid.max_message_size", Long.toString(maxMessageBytes));
    // Consumers share connections, a channel per tenant stream (Qpid's default allows 256 a connection).
    context.put("qpid.port.sessionCountLimit", "2047");
    context.put("qpid.default_posix_file_permissions", "rw-------");
    context.put("qpid.broker.defaultPreferenceStoreAttributes", "{\"type\": \"Noop\"}");
    // basic.reject/nack(requeue=false) re-queues on Qpid unless a delivery limit is set: make it behave like RabbitMQ.
    context.put("queue.maximumDeliveryAttempts", "1");

    Map<String, Object> attributes = new LinkedHashMap<>();
    attributes.put(SystemConfig.TYPE, "Memory");
    attributes.put(SystemConfig.INITIAL_CONFIGURATION_LOCATION, initialConfig.toString());
    attributes.put(SystemConfig.STARTUP_LOGGED_TO_SYSTEM_OUT, false);
    attributes.put(SystemConfig.CONTEXT, context);

    SystemLauncher launcher = new SystemLauncher(listener);
    try {
      launcher.startup(attributes);
    } catch (Exception e) {
      shutdownQuietly(launcher);
      throw new IOException("Embedded AMQP broker failed to start in " + home + ": " + e.getMessage(), e);
    } finally {
      Files.deleteIfExists(initialConfig);
    }
    RuntimeException failure = listener.failure.get();
    if (failure != null) {
      if (port != 0 && !portIsFree(port)) {
        throw bindException(port, failure);
      }
      throw new IOException("Embedded AMQP broker failed to start in " + home + ": " + failure.getMessage(), failure);
    }
    return launcher;
  }

  @SuppressWarnings("unchecked") // SystemConfig.getContainer(Class<T>) with the raw Broker class
  private static int awaitReady(StartupListener listener, int requestedPort) throws IOException {
    SystemConfig<?> systemConfig = listener.systemConfig.get();
    Broker<?> broker = systemConfig == null ? null : (Broker<?>) systemConfig.getContainer(Broker.class);
    if (broker == null) {
      throw new IOException("Embedded AMQP broker did not create its broker object");
    }
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    while (true) {
      Port<?> amqp = broker.getChildren(Port.class).stream()
          .filter(p -> PORT_NAME.equals(p.getName())).findFirst().orElse(null);
      VirtualHostNode<?> node = broker.getChildren(VirtualHostNode.class).stream()
          .filter(n -> VIRTUAL_HOST.equals(n.getName())).findFirst().orElse(null);
      if (amqp == null || node == null) {
        throw new IOException("Embedded AMQP broker is missing its AMQP port or virtual host node");
      }
      State portState = amqp.getState();
      if (portState == State.ERRORED || portState == State.DELETED || portState == State.STOPPED) {
        if (requestedPort != 0) {
          throw bindException(requestedPort, null);
        }
        throw new BindException("Embedded AMQP broker could not bind an ephemeral port on " + LOOPBACK
            + " (port state " + portState + "); see the log above");
      }
      State nodeState = node.getState();
      VirtualHost<?> host = node.getVirtualHost();
      if (nodeState == State.ERRORED || (host != null && host.getState() == State.ERRORED)) {
        throw new IOException("Embedded AMQP broker: virtual host '" + VIRTUAL_HOST + "' failed to open (node "
            + nodeState + ", host " + (host == null ? "none" : host.getState()) + "); see the log above");
      }
      if (portState == State.ACTIVE && amqp.getBoundPort() > 0
          && nodeState == State.ACTIVE && host != null && host.getState() == State.ACTIVE) {
        return amqp.getBoundPort();
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("Embedded AMQP broker not ready after " + READY_TIMEOUT.toSeconds() + " s (port "
            + portState + ", node " + nodeState + ", host " + (host == null ? "none" : host.getState()) + ")");
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("Interrupted while waiting for the embedded AMQP broker", e);
      }
    }
  }

  private static Map<String, Object> brokerConfig(Path home, int port, String password) {
    Map<String, Object> user = new LinkedHashMap<>();
    user.put("name", USERNAME);
    user.put("type", "managed");
    user.put("password", password);

    Map<String, Object> auth = new LinkedHashMap<>();
    auth.put("name", "plain");
    auth.put("type", "Plain");
    // PLAIN is allowed over plain TCP: the port is on loopback only.
    auth.put("secureOnlyMechanisms", List.of());
    auth.put("users", List.of(user));

    Map<String, Object> amqpPort = new LinkedHashMap<>();
    amqpPort.put("name", PORT_NAME);
    amqpPort.put("type", "AMQP");
    amqpPort.put("port", port);
    amqpPort.put("bindingAddress", LOOPBACK);
    amqpPort.put("transports", List.of("TCP"));
    amqpPort.put("protocols", List.of("AMQP_0_9_1"));
    amqpPort.put("authenticationProvider", "plain");
    amqpPort.put("virtualhostaliases", List.of(
        Map.of("name", "nameAlias", "type", "nameAlias"),
        Map.of("name", "defaultAlias", "type", "defaultAlias")));

    Map<String, Object> node = new LinkedHashMap<>();
    node.put("id", VHN_ID);
    node.put("name", VIRTUAL_HOST);
    node.put("type", "DERBY");
    node.put("storePath", home.resolve(DERBY_DIR).toString()); // Qpid appends the node name
    node.put("defaultVirtualHostNode", true);
    // Used only when the store is new: the virtual host keeps its config and its messages in the node's Derby store.
    node.put("virtualHostInitialConfiguration", "{\"type\": \"ProvidedStore\"}");

    Map<String, Object> broker = new LinkedHashMap<>();
    broker.put("id", BROKER_ID);
    broker.put("name", "mysimbdp-embedded");
    broker.put("modelVersion", "9.1");
    broker.put("authenticationproviders", List.of(auth));
    broker.put("ports", List.of(amqpPort));
    broker.put("virtualhostnodes", List.of(node));
    return broker;
  }

  private static final class StartupListener extends SystemLauncherListener.DefaultSystemLauncherListener {
    final AtomicReference<RuntimeException> failure = new AtomicReference<>();
    final AtomicReference<SystemConfig<?>> systemConfig = new AtomicReference<>();

    @Override
    public void errorOnStartup(RuntimeException e) {
      failure.compareAndSet(null, e);
    }

    @Override
    public void onContainerResolve(SystemConfig<?> config) {
      systemConfig.set(config);
    }
  }

  // ---------------------------------------------------------------------------------------------------------

  /**
   * Derby writes derby.log to derby.system.home, which defaults to the working directory. Both properties are
   * JVM-wide and read once, when the Derby engine boots (the first broker of this JVM): values already set win.
   */
  private static void keepDerbyInside(Path home) {
    if (System.getProperty("derby.system.home") == null) {
      System.setProperty("derby.system.home", home.toString());
    }
    if (System.getProperty("derby.stream.error.file") == null
        && System.getProperty("derby.stream.error.method") == null
        && System.getProperty("derby.stream.error.field") == null) {
      System.setProperty("derby.stream.error.file", home.resolve("derby.log").toString());
    }
  }

  private static BindException bindException(int port, Throwable cause) {
    BindException e = new BindException("Embedded AMQP broker cannot listen on " + LOOPBACK + ":" + port
        + ": the port is in use (choose another port, or 0 for a free one)");
    if (cause != null) {
      e.initCause(cause);
    }
    return e;
  }

  private static boolean portIsFree(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getByName(LOOPBACK), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void shutdownQuietly(SystemLauncher launcher) {
    try {
      launcher.shutdown();
    } catch (RuntimeException e) {
      log.debug("Shutting down a broker that failed to start", e);
    }
  }

  private static void releaseQuietly(FileLock lock) {
    try {
      lock.release();
    } catch (IOException e) {
      log.debug("Releasing the broker directory lock", e);
    } finally {
      try {
        lock.channel().close();
      } catch (IOException e) {
        log.debug("Closing the broker directory lock file", e);
      }
    }
  }

  private static FileLock lockDirectory(Path home) throws IOException {
    FileChannel channel = FileChannel.open(home.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      FileLock lock = channel.tryLock();
      if (lock == null) {
        throw new IOException("Another process runs an embedded AMQP broker on " + home);
      }
      return lock;
    } catch (OverlappingFileLockException e) {
      channel.close();
      throw new IOException("An embedded AMQP broker is already running on " + home + " in this JVM", e);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  private static Path createPrivateDirectories(Path home) throws IOException {
    if (!Files.isDirectory(home)) {
      Path parent = home.getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      try {
        Files.createDirectory(home, privateAttributes("rwx------"));
      } catch (FileAlreadyExistsException e) {
        if (!Files.isDirectory(home)) {
          throw e;
        }
      }
    }
    return home.toRealPath();
  }

  static String loadOrCreatePassword(Path file) throws IOException {
    if (Files.exists(file)) {
      String stored = Files.readString(file, StandardCharsets.US_ASCII).trim();
      if (!URL_SAFE.matcher(stored).matches()) {
        throw new IOException("The broker password file " + file + " is not valid (expected at least 16 URL-safe "
            + "characters); delete it to generate a new password");
      }
      restrictPermissions(file);
      return stored;
    }
    byte[] bytes = new byte[24];
    new SecureRandom().nextBytes(bytes);
    String password = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    writePrivateFile(file, (password + "\n").getBytes(StandardCharsets.US_ASCII));
    return password;
  }

  /** Writes through a 0600 temporary file and an atomic rename, so the file is never readable by others. */
  private static void writePrivateFile(Path file, byte[] content) throws IOException {
    Path tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp", privateAttributes("rw-------"));
    try {
      Files.write(tmp, content);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static FileAttribute<?>[] privateAttributes(String permissions) {
    if (isPosix()) {
      return new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions))};
    }
    return new FileAttribute<?>[0];
  }

  private static void restrictPermissions(Path file) {
    if (!isPosix()) {
      return;
    }
    try {
      Set<PosixFilePermission> current = Files.getPosixFilePermissions(file);
      Set<PosixFilePermission> wanted = PosixFilePermissions.fromString("rw-------");
      if (!current.equals(wanted)) {
        Files.setPosixFilePermissions(file, wanted);
        log.warn("Tightened the permissions of {} to 0600 (were {})", file, PosixFilePermissions.toString(current));
      }
    } catch (IOException | UnsupportedOperationException e) {
      log.warn("Could not restrict the permissions of {}: {}", file, e.toString());
    }
  }

  private static boolean isPosix() {
    return java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
  }

  /**
   * Qpid logs its operational messages ("qpid.message.*") at INFO and much more at DEBUG. When logback is the
   * SLF4J backend and the configuration does not name these loggers, cap them at WARN.
   */
  private static void quietQpidLogging() {
    try {
      ILoggerFactory factory = LoggerFactory.getILoggerFactory();
      if (factory instanceof ch.qos.logback.classic.LoggerContext context) {
        for (String name : List.of("org.apache.qpid", "qpid.message", "qpid.statistics", "DERBY")) {
          ch.qos.logback.classic.Logger logger = context.getLogger(name);
          if (logger.getLevel() == null) {
            logger.setLevel(ch.qos.logback.classic.Level.WARN);
          }
        }
      }
    } catch (LinkageError e) {
      log.debug("logback not available; Qpid log levels left alone", e);
    }
  }
}
