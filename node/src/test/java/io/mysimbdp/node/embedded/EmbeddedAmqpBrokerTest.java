package io.mysimbdp.node.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.MessageProperties;
import com.rabbitmq.client.PossibleAuthenticationFailureException;
import com.rabbitmq.client.ShutdownSignalException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded Qpid broker, driven through the RabbitMQ Java client as the platform will drive it. One shared
 * broker (1 MiB message limit) for the feature checks; the restart, password and port checks start their own.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class EmbeddedAmqpBrokerTest {

  private static final int SHARED_LIMIT = 1024 * 1024;
  private static final long WAIT_MS = 5_000;

  @TempDir
  static Path sharedDir;
  private static EmbeddedAmqpBroker shared;

  @BeforeAll
  static void startSharedBroker() throws IOException {
    shared = EmbeddedAmqpBroker.start(sharedDir.resolve("amqp"), 0, SHARED_LIMIT);
  }

  @AfterAll
  static void stopSharedBroker() {
    if (shared != null) {
      shared.close();
    }
  }

  // --- persistence, credentials, lifecycle -------------------------------------------------------------------

  @Test
  void durableQueueBindingAndPersistentMessagesSurviveARestart(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("amqp");
    int persistent = 25;

    EmbeddedAmqpBroker first = EmbeddedAmqpBroker.start(dir, 0);
    try (Connection connection = connect(first.uri())) {
      Channel channel = connection.createChannel();
      channel.exchangeDeclare("ingest", BuiltinExchangeType.DIRECT, true);
      channel.queueDeclare("orders", true, false, false, null);
      channel.queueBind("orders", "ingest", "tenant-1");
      channel.confirmSelect();
      for (int i = 0; i < persistent; i++) {
        channel.basicPublish("ingest", "tenant-1", MessageProperties.PERSISTENT_TEXT_PLAIN, body("order-" + i));
      }
      // A transient message in the same durable queue must not come back: proves the second broker reads the disk.
      channel.basicPublish("ingest", "tenant-1", MessageProperties.TEXT_PLAIN, body("transient"));
      channel.waitForConfirmsOrDie(WAIT_MS);
      assertEquals(persistent + 1, channel.messageCount("orders"));
    } finally {
      first.close();
    }
    first.close(); // idempotent

    try (EmbeddedAmqpBroker second = EmbeddedAmqpBroker.start(dir, 0);
         Connection connection = connect(second.uri())) {
      Channel channel = connection.createChannel();
      assertEquals(persistent, channel.queueDeclarePassive("orders").getMessageCount());
      for (int i = 0; i < persistent; i++) {
        GetResponse response = channel.basicGet("orders", false);
        assertNotNull(response, "message " + i);
        assertEquals("order-" + i, text(response.getBody()));
        assertEquals(2, response.getProps().getDeliveryMode());
        channel.basicAck(response.getEnvelope().getDeliveryTag(), false);
      }
      assertNull(channel.basicGet("orders", false));

      // The exchange and its binding came back too.
      channel.confirmSelect();
      channel.basicPublish("ingest", "tenant-1", MessageProperties.PERSISTENT_TEXT_PLAIN, body("after-restart"));
      channel.waitForConfirmsOrDie(WAIT_MS);
      assertEquals(1, channel.messageCount("orders"));
    }
  }

  @Test
  void passwordIsGeneratedOnceKeptPrivateAndChecked(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("amqp");
    String password;
    try (EmbeddedAmqpBroker first = EmbeddedAmqpBroker.start(dir, 0)) {
      password = first.password();
      assertTrue(password.matches("[A-Za-z0-9_-]{32}"), "URL-safe, 192 random bits: " + password.length());
      assertEquals(URI.create("amqp://mysimbdp:" + password + "@127.0.0.1:" + first.port() + "/default"), first.uri());
      Path file = dir.resolve(EmbeddedAmqpBroker.PASSWORD_FILE);
      assertEquals(password, Files.readString(file).trim());
      if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
      }
      assertFalse(first.toString().contains(password), "toString must not leak the password");
    }

    try (EmbeddedAmqpBroker second = EmbeddedAmqpBroker.start(dir, 0)) {
      assertEquals(password, second.password());
      try (Connection connection = connect(second.uri())) {
        assertTrue(connection.isOpen());
      }
      URI wrong = URI.create("amqp://mysimbdp:not-the-password@127.0.0.1:" + second.port() + "/default");
      assertThrows(PossibleAuthenticationFailureException.class, () -> connect(wrong).close());
      URI guest = URI.create("amqp://guest:guest@127.0.0.1:" + second.port() + "/default");
      assertThrows(PossibleAuthenticationFailureException.class, () -> connect(guest).close());
    }
  }

  @Test
  void aPortInUseGivesABindExceptionBeforeTouchingTheDirectory(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("amqp");
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      int port = taken.getLocalPort();
      BindException e = assertThrows(BindException.class, () -> EmbeddedAmqpBroker.start(dir, port));
      assertTrue(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
    }
    assertFalse(Files.exists(dir), "nothing created, nothing locked");
  }

  @Test
  void aSecondBrokerOnTheSameDirectoryIsRefused() throws Exception {
    IOException e = assertThrows(IOException.class, () -> EmbeddedAmqpBroker.start(shared.directory(), 0));
    assertTrue(e.getMessage().contains("already running"), e.getMessage());
    try (Connection connection = connect(shared.uri())) {
      assertTrue(connection.isOpen(), "the running broker is unaffected");
    }
  }

  @Test
  void listensOnLoopbackOnly() throws Exception {
    assertEquals("127.0.0.1", shared.uri().getHost());
    try (Connection connection = connect(shared.uri())) {
      assertEquals(InetAddress.getByName("127.0.0.1"), connection.getAddress());
    }
    List<InetAddress> others = new ArrayList<>();
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (nic.isUp() && !nic.isLoopback()) {
        nic.inetAddresses().filter(a -> a instanceof Inet4Address).forEach(others::add);
      }
    }
    // Where this machine has another IPv4 address, the broker's port must not answer on it.
    for (InetAddress address : others) {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(address, shared.port()), 1_000);
        fail("the broker port answers on " + address);
      } catch (ConnectException | SocketTimeoutException expected) {
        // refused (or filtered): not listening there
      }
    }
  }

  // --- limits -------------------------------------------------------------------------------------------------

  @Test
  void aMessageOverTheLimitIsRefusedNotDropped() throws Exception {
    try (Connection connection = connect(shared.uri())) {
      Channel channel = connection.createChannel();
      channel.queueDeclare("size-limit", false, false, false, null);
      channel.confirmSelect();
      channel.basicPublish("", "size-limit", null, new byte[SHARED_LIMIT]);
      channel.waitForConfirmsOrDie(WAIT_MS);

      channel.basicPublish("", "size-limit", null, new byte[SHARED_LIMIT + 1]);
      assertThrows(Exception.class, () -> channel.waitForConfirmsOrDie(WAIT_MS));
      assertFalse(channel.isOpen());
      assertEquals(311, replyCode(channel.getCloseReason()), "content-too-large");
      assertFalse(channel.getCloseReason().isHardError(), "only the channel is closed");

      Channel other = connection.createChannel();
      assertEquals(1, other.messageCount("size-limit"));
    }
  }

  @Test
  void theDefaultLimitIs16MiB() {
    assertEquals(16L * 1024 * 1024, EmbeddedAmqpBroker.DEFAULT_MAX_MESSAGE_BYTES);
    assertThrows(IllegalArgumentException.class, () -> EmbeddedAmqpBroker.start(sharedDir, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> EmbeddedAmqpBroker.start(sharedDir, 0, 1L << 31));
  }

  // --- AMQP 0-9-1 features the platform relies on ---------------------------------------------------------------

  @Test
  void exchangeToQueueBindingRoutesByKey() throws Exception {
    try (Connection connection = connect(shared.uri())) {
      Channel channel = connection.createChannel();
      channel.exchangeDeclare("routing", BuiltinExchangeType.DIRECT, false);
      channel.queueDeclare("routing-a", false, false, false, null);
      channel.queueBind("routing-a", "routing", "a");
      channel.confirmSelect();
      channel.basicPublish("routing", "a", null, body("for-a"));
      channel.basicPublish("routing", "b", null, body("unroutable"));
      channel.waitForConfirmsOrDie(WAIT_MS);
      assertEquals(1, channel.messageCount("routing-a"));
      assertEquals("for-a", text(channel.basicGet("routing-a", true).getBody()));
    }
  }

  @Test
  void basicQosLimitsUnackedDeliveries() throws Exception {
    try (Connection connection = connect(shared.uri())) {
      Channel publisher = connection.createChannel();
      publisher.queueDeclare("prefetch", false, false, false, null);
      publisher.confirmSelect();
      for (int i = 0; i < 6; i++) {
        publisher.basicPublish("", "prefetch", null, body("m" + i));
      }
      publisher.waitForConfirmsOrDie(WAIT_MS);

      Channel consumer = connection.createChannel();
      consumer.basicQos(2);
      BlockingQueue<Envelope> deliveries = consume(consumer, "prefetch");
      Envelope first = poll(deliveries);
      poll(deliveries);
      assertNull(deliveries.poll(300, TimeUnit.MILLISECONDS), "prefetch 2: no third delivery before an ack");

      consumer.basicAck(first.getDeliveryTag(), false);
      Envelope third = poll(deliveries);
      assertNull(deliveries.poll(300, TimeUnit.MILLISECONDS), "one ack frees one slot");
      consumer.basicAck(third.getDeliveryTag(), true);
      poll(deliveries);
      poll(deliveries);
    }
  }

  @Test
  void singleActiveConsumerIsAcceptedAndHandsOverOnCancel() throws Exception {
    try (Connection connection = connect(shared.uri())) {
      Channel publisher = connection.createChannel();
      publisher.queueDeclare("sac", true, false, false, Map.of("x-single-active-consumer", true));
      publisher.confirmSelect();

      Channel channelA = connection.createChannel();
      BlockingQueue<Envelope> a = consume(channelA, "sac");
      Channel channelB = connection.createChannel();
      BlockingQueue<Envelope> b = consume(channelB, "sac");

      for (int i = 0; i < 5; i++) {
        publisher.basicPublish("", "sac", MessageProperties.PERSISTENT_TEXT_PLAIN, body("s" + i));
      }
      publisher.waitForConfirmsOrDie(WAIT_MS);
      Envelope last = null;
      for (int i = 0; i < 5; i++) {
        last = poll(a);
      }
      assertNull(b.poll(300, TimeUnit.MILLISECONDS), "the second consumer stays idle while the first is active");
      channelA.basicAck(last.getDeliveryTag() - 1, true); // leave the fifth un-acked

      channelA.close(); // the un-acked message and the next ones go to B
      Envelope redelivered = poll(b);
      assertTrue(redelivered.isRedeliver());
      publisher.basicPublish("", "sac", MessageProperties.PERSISTENT_TEXT_PLAIN, body("s5"));
      publisher.waitForConfirmsOrDie(WAIT_MS);
      channelB.basicAck(poll(b).getDeliveryTag(), true);
      assertTrue(a.isEmpty());
    }
  }

  @Test
  void deadLetterExchangeArgumentIsRefusedWithAConnectionError() throws Exception {
    Connection connection = connect(shared.uri());
    try {
      Channel channel = connection.createChannel();
      channel.exchangeDeclare("dlx-rabbit-style", BuiltinExchangeType.FANOUT, false);
      IOException e = assertThrows(IOException.class, () -> channel.queueDeclare("rabbit-style", false, false, false,
          Map.of("x-dead-letter-exchange", "dlx-rabbit-style")));
      ShutdownSignalException cause = assertInstanceOf(ShutdownSignalException.class, e.getCause());
      assertTrue(cause.isHardError(), "Qpid closes the whole connection, not just the channel");
      assertEquals(542, replyCode(cause), "invalid-argument");
      assertFalse(connection.isOpen());
    } finally {
      if (connection.isOpen()) {
        connection.close();
      }
    }
  }

  @Test
  void rejectedMessagesGoToTheQueuesAlternateExchange() throws Exception {
    try (Connection connection = connect(shared.uri())) {
      Channel channel = connection.createChannel();
      channel.exchangeDeclare("dead-letters", BuiltinExchangeType.FANOUT, false);
      channel.queueDeclare("dead-letter-queue", false, false, false, null);
      channel.queueBind("dead-letter-queue", "dead-letters", "");
      // Qpid's counterpart of x-dead-letter-exchange.
      channel.queueDeclare("work", false, false, false, Map.of("alternateExchange", "dead-letters"));
      channel.confirmSelect();
      for (String text : List.of("rejected", "nacked", "requeued")) {
        channel.basicPublish("", "work", MessageProperties.TEXT_PLAIN, body(text));
      }
      channel.waitForConfirmsOrDie(WAIT_MS);

      GetResponse rejected = channel.basicGet("work", false);
      assertEquals("rejected", text(rejected.getBody()));
      channel.basicReject(rejected.getEnvelope().getDeliveryTag(), false);
      GetResponse nacked = channel.basicGet("work", false);
      assertEquals("nacked", text(nacked.getBody()));
      channel.basicNack(nacked.getEnvelope().getDeliveryTag(), false, false);
      GetResponse requeued = channel.basicGet("work", false);
      channel.basicReject(requeued.getEnvelope().getDeliveryTag(), true);

      awaitCount(() -> messageCount(channel, "dead-letter-queue"), 2);
      assertEquals(List.of("rejected", "nacked"), List.of(
          text(channel.basicGet("dead-letter-queue", true).getBody()),
          text(channel.basicGet("dead-letter-queue", true).getBody())));
      GetResponse again = channel.basicGet("work", true);
      assertEquals("requeued", text(again.getBody()), "requeue=true still re-queues");
      assertTrue(again.getEnvelope().isRedeliver());
    }
  }

  @Test
  void aRejectedMessageWithoutAlternateExchangeIsDroppedAsOnRabbitMq() throws Exception {
    try (Connection connection = connect(shared.uri())) {
      Channel channel = connection.createChannel();
      channel.queueDeclare("no-dlx", false, false, false, null);
      channel.confirmSelect();
      channel.basicPublish("", "no-dlx", null, body("poison"));
      channel.waitForConfirmsOrDie(WAIT_MS);
      GetResponse poison = channel.basicGet("no-dlx", false);
      channel.basicReject(poison.getEnvelope().getDeliveryTag(), false);
      awaitCount(() -> messageCount(channel, "no-dlx"), 0);
      assertNull(channel.basicGet("no-dlx", true), "Qpid's default would re-deliver it forever");
    }
  }

  // --- helpers --------------------------------------------------------------------------------------------------

  private static Connection connect(URI uri) throws Exception {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setUri(uri);
    factory.setAutomaticRecoveryEnabled(false);
    factory.setConnectionTimeout(5_000);
    return factory.newConnection();
  }

  private static BlockingQueue<Envelope> consume(Channel channel, String queue) throws IOException {
    BlockingQueue<Envelope> deliveries = new LinkedBlockingQueue<>();
    channel.basicConsume(queue, false, new DefaultConsumer(channel) {
      @Override
      public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
        deliveries.add(envelope);
      }
    });
    return deliveries;
  }

  private static Envelope poll(BlockingQueue<Envelope> deliveries) throws InterruptedException {
    Envelope envelope = deliveries.poll(WAIT_MS, TimeUnit.MILLISECONDS);
    assertNotNull(envelope, "expected a delivery");
    return envelope;
  }

  private static long messageCount(Channel channel, String queue) {
    try {
      return channel.messageCount(queue);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void awaitCount(LongSupplier count, long expected) throws InterruptedException {
    long deadline = System.currentTimeMillis() + WAIT_MS;
    while (count.getAsLong() != expected && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(expected, count.getAsLong());
  }

  private static int replyCode(ShutdownSignalException e) {
    if (e.getReason() instanceof AMQP.Channel.Close close) {
      return close.getReplyCode();
    }
    return ((AMQP.Connection.Close) e.getReason()).getReplyCode();
  }

  private static byte[] body(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static String text(byte[] body) {
    return new String(body, StandardCharsets.UTF_8);
  }
}
