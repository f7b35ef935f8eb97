package io.mysimbdp.node.embedded;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.ServerVersion;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.bson.BinData;
import de.bwaldvogel.mongo.bson.Decimal128;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.ObjectId;
import de.bwaldvogel.mongo.wire.bson.BsonDecoder;
import de.bwaldvogel.mongo.wire.bson.BsonEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.wire.message.MongoMessage;
import de.bwaldvogel.mongo.wire.message.MongoQuery;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.type.ObjectDataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded MongoDB-wire-protocol server of the zero-install default: mongo-java-server with its
 * file-backed H2 store, on loopback. The node talks to it through the official driver exactly as it
 * would to MongoDB, so nothing above this class knows which it got.
 *
 * <p>The databases are hashed over several H2 files ({@link DatabaseRoutingBackend}): an H2 commit
 * visits every open map of its store, so with every tenant's collections in one file each write
 * cost in proportion to the number of tenants.
 *
 * <p>A write is in the store's file before it is answered, and the file never holds half a command
 * ({@link CommittingH2Backend}): the embedded store survives {@code kill -9}.
 */
public final class EmbeddedMongo implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedMongo.class);

  private final MongoServer server;
  private final InetSocketAddress address;
  private boolean closed;

  private EmbeddedMongo(MongoServer server, InetSocketAddress address) {
    this.server = server;
    this.address = address;
  }

  /** The default layout: {@value #DEFAULT_STORE_FILES} files sharing {@value #DEFAULT_CACHE_MB} MB of page cache. */
  public static final int DEFAULT_STORE_FILES = 64;
  public static final int DEFAULT_CACHE_MB = 128;
  /** A store of earlier versions: every database in this one file. */
  static final String SINGLE_FILE = "mongo.mv.db";
  /** Where the number of files a store was created with is kept: it decides where each database lives. */
  static final String LAYOUT_FILE = "store-files";

  public static EmbeddedMongo start(Path dir, int port) throws IOException {
    return start(dir, port, DEFAULT_STORE_FILES, DEFAULT_CACHE_MB);
  }

  /**
   * Starts the server on {@code port} (0 picks a free one) with its store under {@code dir}: the
   * databases hashed over {@code storeFiles} H2 files ({@code mongo-NN.mv.db}) sharing {@code
   * cacheMb} of page cache. A store keeps the number of files it was created with (a different
   * {@code storeFiles} later is logged and ignored), and a store of earlier versions (one {@value
   * #SINGLE_FILE}) stays in its one file.
   */
  public static EmbeddedMongo start(Path dir, int port, int storeFiles, int cacheMb) throws IOException {
    Files.createDirectories(dir);
    List<Path> files = storeFiles(dir.toAbsolutePath(), storeFiles);
    int cachePerFile = Math.max(1, cacheMb / files.size());
    List<CommittingH2Backend> parts = new java.util.ArrayList<>();
    MongoServer server;
    try {
      for (Path file : files) {
        parts.add(new CommittingH2Backend(
            new MVStore.Builder().fileName(file.toString()).cacheSize(cachePerFile).autoCommitDisabled().open()));
      }
      MongoBackend backend = parts.size() == 1 ? parts.get(0) : new DatabaseRoutingBackend(parts);
      // Driver 5.x needs wire version 8+; mongo-java-server reports it only when asked to.
      backend.version(ServerVersion.MONGO_5_0);
      server = new MongoServer(backend);
      server.bind("127.0.0.1", port);
    } catch (RuntimeException e) {
      parts.forEach(CommittingH2Backend::close);
      throw new IOException("embedded MongoDB could not start on 127.0.0.1:" + port + " with its store in " + dir + ": " + e.getMessage(), e);
    }
    InetSocketAddress address = server.getLocalAddress();
    log.info("embedded MongoDB-wire-protocol server started on 127.0.0.1:{}, store {} ({} files)", address.getPort(), dir, files.size());
    return new EmbeddedMongo(server, address);
  }

  /** The store's files: those it was created with, or {@code wanted} new ones recorded in {@value #LAYOUT_FILE}. */
  static List<Path> storeFiles(Path dir, int wanted) throws IOException {
    if (wanted < 1) {
      throw new IllegalArgumentException("store files must be at least 1, not " + wanted);
    }
    Path layout = dir.resolve(LAYOUT_FILE);
    int count;
    if (Files.exists(layout)) {
      String recorded = Files.readString(layout).trim();
      try {
        count = Integer.parseInt(recorded);
      } catch (NumberFormatException e) {
        throw new IOException(layout + " should hold the store's number of files, not '" + recorded + "'");
      }
      if (count != wanted) {
        log.warn("the embedded store in {} was created with {} files and keeps them ({} asked for)", dir, count, wanted);
      }
    } else if (Files.exists(dir.resolve(SINGLE_FILE))) {
      return List.of(dir.resolve(SINGLE_FILE));
    } else {
      count = wanted;
      Files.writeString(layout, count + "\n");
    }
    List<Path> files = new java.util.ArrayList<>();
    for (int i = 0; i < count; i++) {
      files.add(dir.resolve(String.format("mongo-%02d.mv.db", i)));
    }
    return files;
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
    // shutdown() closes the backend too, which commits each H2 store to its file.
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

      @Override
      protected MongoCollection<Object> openOrCreateCollection(String collectionName, CollectionOptions options) {
        // The collection's documents map, opened first with the BSON value type (same name as
        // H2Database's own; its openMap(name) then gets this open map).
        String mapName = "databases." + getFullCollectionNamespace(collectionName);
        getMvStore().openMap(mapName, new MVMap.Builder<Object, Object>().valueType(new DocumentValues()));
        return super.openOrCreateCollection(collectionName, options);
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
   * H2's default value type, but documents written as BSON (mongo-java-server's own encoder)
   * instead of by Java serialization: under the stream benchmark, serializing documents when the
   * store commits was 12% of the node's CPU. A document is written under a tag of its own that H2
   * does not use ({@value #TAG_BSON_DOCUMENT}); anything else, and a document holding a value BSON
   * would not give back exactly (see {@link #exact}), is written as before. Reading takes both, so
   * files written before still read; a file written by this type needs it to be read.
   */
  static final class DocumentValues extends ObjectDataType {
    static final byte TAG_BSON_DOCUMENT = 63;
    private static final ThreadLocal<ByteBuf> BUFFER = ThreadLocal.withInitial(() -> Unpooled.buffer(1024));

    @Override
    public void write(WriteBuffer buff, Object obj) {
      if (obj instanceof Document document && exact(document)) {
        ByteBuf out = BUFFER.get().clear();
        BsonEncoder.encodeDocument(document, out);
        int length = out.readableBytes();
        buff.put(TAG_BSON_DOCUMENT).putVarInt(length).put(out.array(), out.arrayOffset(), length);
        if (out.capacity() > 1 << 20) {
          BUFFER.remove(); // do not keep a large buffer after a large document
        }
        return;
      }
      super.write(buff, obj);
    }

    @Override
    public Object read(ByteBuffer buff) {
      if (buff.get(buff.position()) != TAG_BSON_DOCUMENT) {
        return super.read(buff);
      }
      buff.get();
      int length = DataUtils.readVarInt(buff);
      ByteBuffer bytes = buff.slice();
      bytes.limit(length);
      Document document = BsonDecoder.decodeBson(Unpooled.wrappedBuffer(bytes));
      buff.position(buff.position() + length);
      return document;
    }

    /**
     * Whether BSON gives back exactly this value: the types the wire protocol itself decodes to,
     * a date with whole milliseconds, strings UTF-8 can carry (no lone surrogate), field names
     * without NUL.
     */
    static boolean exact(Object value) {
      if (value == null || value instanceof Integer || value instanceof Long || value instanceof Double || value instanceof Boolean
          || value instanceof ObjectId || value instanceof BinData || value instanceof Decimal128 || value instanceof UUID) {
        return true;
      }
      if (value instanceof String s) {
        return utf8Exact(s, false);
      }
      if (value instanceof Instant instant) {
        return instant.getNano() % 1_000_000 == 0;
      }
      if (value instanceof Document document) {
        for (Map.Entry<String, Object> field : document.entrySet()) {
          if (!utf8Exact(field.getKey(), true) || !exact(field.getValue())) {
            return false;
          }
        }
        return true;
      }
      if (value instanceof List<?> list) {
        for (Object element : list) {
          if (!exact(element)) {
            return false;
          }
        }
        return true;
      }
      return false;
    }

    static boolean utf8Exact(String s, boolean name) {
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c < 0xd800) {
          if (name && c == 0) {
            return false;
          }
        } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else if (Character.isSurrogate(c)) {
          return false;
        }
      }
      return true;
    }
  }

  /**
   * H2's default key type with a cheaper comparison of mongo-java-server's index keys. Those keys
   * ({@link KeyValue}) are not {@code Comparable}, so H2 orders them by their Java serialization and
   * serializes both sides of every comparison of every B-tree search: profiled under the stream
   * benchmark, that was 48% of the node's CPU time. This orders exactly as those bytes do (the
   * order, and so the files, are unchanged; reading and writing are H2's own), two ways:
   *
   * <ul>
   *   <li>a key of one string (every {@code _id} the platform writes) serializes as a constant
   *       prefix, the string's modified-UTF-8 length in two bytes, its modified-UTF-8 bytes and a
   *       constant end: two such keys order by that length, then by those bytes, unsigned. That is
   *       compared from the strings themselves, with no serialization (the rest of the insert path
   *       builds three fresh keys per document, so a cache of serialized keys missed on each: 12% of
   *       the node's CPU under the stream benchmark);
   *   <li>any other key: the serialized form of recently compared keys — the keys of the tree's
   *       upper pages and the key being looked up are compared over and over — is kept in a small
   *       cache by identity (keys are not changed once built).
   * </ul>
   */
  static final class KeyOrder extends ObjectDataType {
    static final KeyOrder INSTANCE = new KeyOrder();
    /**
     * A key of one string, written as its UTF-8 bytes under a tag H2 does not use, instead of by
     * Java serialization (7% of the node's CPU when the store commits). Read as the same key;
     * keys written before (serialized) still read.
     */
    static final byte TAG_STRING_KEY = 62;
    private static final int SLOTS = 1 << 15;

    @Override
    public void write(WriteBuffer buff, Object obj) {
      if (obj instanceof KeyValue key && key.size() == 1 && key.get(0) instanceof String s && DocumentValues.utf8Exact(s, false)) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        buff.put(TAG_STRING_KEY).putVarInt(bytes.length).put(bytes);
        return;
      }
      super.write(buff, obj);
    }

    @Override
    public Object read(ByteBuffer buff) {
      if (buff.get(buff.position()) != TAG_STRING_KEY) {
        return super.read(buff);
      }
      buff.get();
      byte[] bytes = new byte[DataUtils.readVarInt(buff)];
      buff.get(bytes);
      return new KeyValue(new String(bytes, StandardCharsets.UTF_8));
    }

    private record Serialized(Object key, byte[] bytes) {}

    private final AtomicReferenceArray<Serialized> cache = new AtomicReferenceArray<>(SLOTS);

    @Override
    public int compare(Object a, Object b) {
      if (a == b) {
        return 0;
      }
      if (a instanceof KeyValue ka && b instanceof KeyValue kb) {
        String sa = oneShortString(ka);
        String sb = sa == null ? null : oneShortString(kb);
        if (sb != null) {
          return compareModifiedUtf8(sa, sb);
        }
        return compareNotNull(serialized(a), serialized(b));
      }
      return super.compare(a, b);
    }

    /**
     * The key's only value if it is a string that Java serialization writes as {@code TC_STRING}
     * (modified UTF-8 shorter than 65,536 bytes), else null.
     */
    private static String oneShortString(KeyValue key) {
      if (key.size() != 1 || !(key.get(0) instanceof String s)) {
        return null;
      }
      return s.length() <= 65535 / 3 || modifiedUtf8Length(s, 0) <= 65535 ? s : null;
    }

    /** The order of the two strings' serialized forms: length, then bytes, in modified UTF-8. */
    static int compareModifiedUtf8(String a, String b) {
      int la = modifiedUtf8Length(a, 0);
      int lb = modifiedUtf8Length(b, 0);
      if (la != lb) {
        return la < lb ? -1 : 1;
      }
      int n = Math.min(a.length(), b.length());
      for (int i = 0; i < n; i++) {
        char ca = a.charAt(i);
        char cb = b.charAt(i);
        boolean asciiA = ca >= 1 && ca <= 0x7f;
        boolean asciiB = cb >= 1 && cb <= 0x7f;
        if (asciiA && asciiB) {
          if (ca != cb) {
            return ca < cb ? -1 : 1;
          }
        } else {
          // Up to here both encode to the same bytes: compare the rest encoded.
          return compareNotNull(modifiedUtf8(a, i), modifiedUtf8(b, i));
        }
      }
      return 0; // same length in bytes, same ASCII prefix over the shorter: the same bytes
    }

    private static int modifiedUtf8Length(String s, int from) {
      int length = 0;
      for (int i = from; i < s.length(); i++) {
        char c = s.charAt(i);
        length += c >= 1 && c <= 0x7f ? 1 : c <= 0x7ff ? 2 : 3;
      }
      return length;
    }

    private static byte[] modifiedUtf8(String s, int from) {
      byte[] out = new byte[modifiedUtf8Length(s, from)];
      int j = 0;
      for (int i = from; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c >= 1 && c <= 0x7f) {
          out[j++] = (byte) c;
        } else if (c <= 0x7ff) {
          out[j++] = (byte) (0xc0 | (c >> 6));
          out[j++] = (byte) (0x80 | (c & 0x3f));
        } else {
          out[j++] = (byte) (0xe0 | (c >> 12));
          out[j++] = (byte) (0x80 | ((c >> 6) & 0x3f));
          out[j++] = (byte) (0x80 | (c & 0x3f));
        }
      }
      return out;
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
