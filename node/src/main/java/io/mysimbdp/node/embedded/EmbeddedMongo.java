package io.mysimbdp.node.embedded;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.ServerVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded MongoDB-wire-protocol server of the zero-install default: mongo-java-server with its
 * file-backed H2 store, on loopback. The node talks to it through the official driver exactly as it
 * would to MongoDB, so nothing above this class knows which it got.
 */
public final class EmbeddedMongo implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedMongo.class);

  private final MongoServer server;
  private final H2Backend backend;
  private final InetSocketAddress address;
  private boolean closed;

  private EmbeddedMongo(MongoServer server, H2Backend backend, InetSocketAddress address) {
    this.server = server;
    this.backend = backend;
    this.address = address;
  }

  /** Starts the server with its store at {@code dir/mongo.mv.db}; port 0 picks a free port. */
  public static EmbeddedMongo start(Path dir, int port) throws IOException {
    Files.createDirectories(dir);
    Path storeFile = dir.resolve("mongo.mv.db").toAbsolutePath();
    H2Backend backend = CrashConsistentH2Backend.open(storeFile.toString());
    // Driver 5.x needs wire version 8+; mongo-java-server reports it only when asked to.
    backend.version(ServerVersion.MONGO_5_0);
    MongoServer server = new MongoServer(backend);
    try {
      server.bind("127.0.0.1", port);
    } catch (RuntimeException e) {
      backend.close();
      throw new IOException("embedded MongoDB could not bind 127.0.0.1:" + port + ": " + e.getMessage(), e);
    }
    InetSocketAddress address = server.getLocalAddress();
    log.info("embedded MongoDB-wire-protocol server started on 127.0.0.1:{}, store {}", address.getPort(), storeFile);
    return new EmbeddedMongo(server, backend, address);
  }

  public String connectionString() {
    return "mongodb://127.0.0.1:" + address.getPort();
  }

  public int port() {
    return address.getPort();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    // shutdown() closes the backend too, which commits the H2 store to its file.
    server.shutdown();
    log.info("embedded MongoDB-wire-protocol server stopped");
  }
}
