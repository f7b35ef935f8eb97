package io.mysimbdp.node.embedded;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.ServerVersion;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.wire.message.MongoMessage;
import de.bwaldvogel.mongo.wire.message.MongoQuery;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.type.ObjectDataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded MongoDB-wire-protocol server of the zero-install default: mongo-java-server with its
 * file-backed H2 store, on loopback. The node talks to it through the official driver exactly as it
 * would to MongoDB, so nothing above this class knows which it got.
 *
 * <p>A write is in the store's file before it is answered, and the file never holds half a command
 * ({@link CommittingH2Backend}): the embedded store survives {@code kill -9}.
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
    H2Backend backend = new CommittingH2Backend(new MVStore.Builder().fileName(storeFile.toString()).autoCommitDisabled().open());
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

  /**
   * The H2 backend with automatic commit off, made durable and crash-consistent:
   *
   * <ul>
   *   <li>durable: every command commits before it answers, so an acknowledged write survives the
   *       process being killed (it is in the file, not yet necessarily on the disk: a power cut can
   *       still lose the last seconds, as with MongoDB's default write concern). Left to H2's
   *       background commit, a node killed with {@code kill -9} lost writes it had acknowledged —
   *       and whose messages the stream had therefore acked to the broker (seen: 6,865 records of a
   *       100,000-message stream);
   *   <li>consistent: a commit never captures another command half done (a document written, its
   *       {@code _id} index entry not yet — after a crash, every later insert of that id failed).
   *       Commands hold a read lock while they run; the commit after each one takes the write lock,
   *       so it waits for the commands in flight. A command that changed nothing finds nothing
   *       unsaved; commands finishing together share one commit.
   * </ul>
   */
  static final class CommittingH2Backend extends H2Backend {
    private final MVStore store;
    private final ReentrantReadWriteLock commandsAndCommits = new ReentrantReadWriteLock(true);
    private final ThreadLocal<int[]> nesting = ThreadLocal.withInitial(() -> new int[1]);

    CommittingH2Backend(MVStore store) {
      super(store);
      this.store = store;
    }

    @Override
    protected MongoDatabase openOrCreateDatabase(String databaseName) {
      return new FasterIndexDatabase(databaseName);
    }

    /**
     * The H2 database whose unique indexes (every collection's {@code _id}, and the others) compare
     * keys through {@link KeyOrder}. Inner, not static: H2Backend's constructor opens the existing
     * databases before this class's own fields are set, and {@link #getMvStore()} is set by then.
     */
    final class FasterIndexDatabase extends H2Database {
      FasterIndexDatabase(String databaseName) {
        super(databaseName, getMvStore(), getCursorRegistry());
      }

      @Override
      protected Index<Object> openOrCreateUniqueIndex(String collectionName, String indexName, List<IndexKey> keys, boolean sparse) {
        // The name H2Database gives the index's map; opened first with the key order, H2Database's
        // own openMap(name) then gets this same open map.
        String mapName = getFullCollectionNamespace(collectionName) + "._index_" + indexName;
        getMvStore().openMap(mapName, new MVMap.Builder<KeyValue, Object>().keyType(KeyOrder.INSTANCE));
        return super.openOrCreateUniqueIndex(collectionName, indexName, keys, sparse);
      }
    }

    private <T> T committed(Supplier<T> command) {
      // handleMessage runs handleCommand inside: only the outermost call locks and commits (a
      // read lock cannot be upgraded to the write lock).
      int[] depth = nesting.get();
      if (depth[0]++ > 0) {
        try {
          return command.get();
        } finally {
          depth[0]--;
        }
      }
      T result;
      commandsAndCommits.readLock().lock();
      try {
        result = command.get();
      } finally {
        commandsAndCommits.readLock().unlock();
        depth[0]--;
      }
      commandsAndCommits.writeLock().lock();
      try {
        if (!store.isClosed() && store.hasUnsavedChanges()) {
          store.commit();
        }
      } finally {
        commandsAndCommits.writeLock().unlock();
      }
      return result;
    }

    @Override
    public Document handleCommand(Channel channel, String database, String command, Document query) {
      return committed(() -> super.handleCommand(channel, database, command, query));
    }

    @Override
    public QueryResult handleQuery(MongoQuery query) {
      return committed(() -> super.handleQuery(query));
    }

    @Override
    public Document handleMessage(MongoMessage message) {
      return committed(() -> super.handleMessage(message));
    }

    @Override
    public void close() {
      commandsAndCommits.writeLock().lock();
      try {
        if (!store.isClosed()) {
          store.commit();
        }
        super.close();
      } finally {
        commandsAndCommits.writeLock().unlock();
      }
    }
  }

  /**
   * H2's default key type with a cheaper comparison of mongo-java-server's index keys. Those keys
   * ({@link KeyValue}) are not {@code Comparable}, so H2 orders them by their Java serialization and
   * serializes both sides of every comparison of every B-tree search: profiled under the stream
   * benchmark, that was 48% of the node's CPU time. This compares the same bytes (the order, and so
   * the files, are unchanged; reading and writing are H2's own) but keeps the serialized form of
   * recently compared keys — the keys of the tree's upper pages and the key being looked up are
   * compared over and over — in a small cache by identity (keys are not changed once built).
   */
  static final class KeyOrder extends ObjectDataType {
    static final KeyOrder INSTANCE = new KeyOrder();
    private static final int SLOTS = 1 << 15;

    private record Serialized(Object key, byte[] bytes) {}

    private final AtomicReferenceArray<Serialized> cache = new AtomicReferenceArray<>(SLOTS);

    @Override
    public int compare(Object a, Object b) {
      if (a == b) {
        return 0;
      }
      if (a instanceof KeyValue && b instanceof KeyValue) {
        return compareNotNull(serialized(a), serialized(b));
      }
      return super.compare(a, b);
    }

    private byte[] serialized(Object key) {
      int slot = System.identityHashCode(key) & (SLOTS - 1);
      Serialized cached = cache.get(slot);
      if (cached != null && cached.key() == key) {
        return cached.bytes();
      }
      byte[] bytes = serialize(key);
      cache.lazySet(slot, new Serialized(key, bytes));
      return bytes;
    }
  }
}
