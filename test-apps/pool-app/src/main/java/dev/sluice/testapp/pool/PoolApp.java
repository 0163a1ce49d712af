package dev.sluice.testapp.pool;

import dev.sluice.testapp.support.CommandLoop;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An application with one connection pool or data source ({@link Pools}), configured as
 * applications configure it:
 *
 * <pre>
 *   PoolApp &lt;pool&gt; &lt;url&gt; [user [password]]
 *   PoolApp multi &lt;url&gt; &lt;user&gt; &lt;password&gt; &lt;pool,pool,...&gt;   (the bank workload only)
 * </pre>
 *
 * <p>{@code borrow} borrows through {@code javax.sql.DataSource} and runs {@code SELECT 1}; {@code
 * borrow-own} does the same through the pool's own type (a covariant {@code getConnection()} where
 * it has one). A pool that enlists connections in JTA transactions borrows inside one.
 */
public final class PoolApp {

  public static void main(String[] args) throws Exception {
    if (args[0].equals("multi")) {
      multi(args[1], arg(args, 2), arg(args, 3), args[4].split(","));
      return;
    }
    Pool pool = Pools.create(args[0], args[1], arg(args, 2), arg(args, 3));
    try {
      CommandLoop loop = new CommandLoop().withHeldConnections();
      Bank bank = new Bank(pool.dataSource, pool.transactions, "", maxThreads(pool));
      loop.on("bank-setup", bank::setup)
          .on("bank-start", bank::start)
          .on("bank-stats", a -> bank.stats())
          .on("bank-stop", a -> bank.stop())
          .on("bank-check", a -> bank.check())
          .on("bank-acked", a -> bank.acked());
      loop.on("borrow", a -> borrow(pool, false))
          .on("borrow-own", a -> borrow(pool, true))
          .on("hold", a -> loop.hold(a.trim(), pool.dataSource.getConnection()))
          .on("type", a -> pool.dataSource.getClass().getName())
          .run();
    } finally {
      pool.close();
    }
  }

  private static String arg(String[] args, int i) {
    return args.length > i ? args[i] : null;
  }

  private static int maxThreads(Pool pool) {
    return pool.name.equals("spring") ? 1 : Integer.MAX_VALUE; // one shared connection
  }

  /** Borrows (in a transaction where the pool enlists) and runs {@code SELECT 1}. */
  static String borrow(Pool pool, boolean ownType) throws Exception {
    pool.transactions.begin();
    boolean committed = false;
    try {
      String result;
      try (Connection c = Pools.borrow(pool, ownType)) {
        result = CommandLoop.query(c, "SELECT 1");
      }
      pool.transactions.commit();
      committed = true;
      return "borrowed " + result;
    } finally {
      if (!committed) {
        pool.transactions.rollback();
      }
    }
  }

  /** Several pools over one database, each running its own bank; answers per pool. */
  private static void multi(String url, String user, String password, String[] names)
      throws Exception {
    Map<String, Bank> banks = new LinkedHashMap<>();
    List<Pool> pools = new ArrayList<>();
    try {
      for (String name : names) {
        Pool pool = Pools.create(name, url, user, password);
        pools.add(pool);
        String suffix = "_" + name.replaceAll("[^A-Za-z0-9]", "_");
        banks.put(name, new Bank(pool.dataSource, pool.transactions, suffix, maxThreads(pool)));
      }
      CommandLoop loop = new CommandLoop();
      loop.on("bank-setup", a -> each(banks, b -> b.setup(a)))
          .on("bank-start", a -> each(banks, b -> b.start(a)))
          .on("bank-stats", a -> each(banks, Bank::stats))
          .on("bank-stop", a -> each(banks, Bank::stop))
          .on("bank-check", a -> each(banks, Bank::check))
          .on("bank-errors", a -> each(banks, Bank::lastError))
          .on("bank-acked", a -> each(banks, Bank::acked))
          .run();
    } finally {
      for (Pool pool : pools) {
        pool.close();
      }
    }
  }

  interface BankCommand {
    String run(Bank bank) throws Exception;
  }

  /** {@code pool{answer};pool{answer};...} */
  private static String each(Map<String, Bank> banks, BankCommand command) throws Exception {
    StringBuilder out = new StringBuilder();
    for (Map.Entry<String, Bank> e : banks.entrySet()) {
      out.append(e.getKey()).append('{').append(command.run(e.getValue())).append("};");
    }
    return out.toString();
  }
}
