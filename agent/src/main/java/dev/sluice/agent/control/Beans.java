package dev.sluice.agent.control;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers the agent's MXBeans in the platform MBean server. Creating that server costs a cold JVM
 * about 50 ms of CPU and some 300 JDK classes (every platform MXBean, the diagnostic commands),
 * which would compete with the application's own start-up; so when nothing has asked for JMX yet,
 * the beans wait for the {@link Quiet} moment of start-up. When the command line asks for remote
 * JMX ({@code com.sun.management.jmxremote*}), or an MBean server exists already, they are
 * registered at once.
 */
public final class Beans {

  private static final Logger log = LoggerFactory.getLogger(Beans.class);

  private final List<Object[]> pending = new ArrayList<>();
  private MBeanServer server;

  /** Beans for the platform MBean server, registered once it is opened. */
  public Beans() {}

  /** Beans registered in {@code server} at once. */
  Beans(MBeanServer server) {
    this.server = server;
  }

  /** Registers {@code bean} as {@code name}, now or once the server is opened. */
  public void register(Object bean, String name) {
    register(() -> bean, name);
  }

  /**
   * Makes the bean and registers it as {@code name} once the server is opened (now, if it is):
   * making a described MXBean costs start-up time too.
   */
  public synchronized void register(Supplier<?> bean, String name) {
    if (server == null) {
      pending.add(new Object[] {bean, name});
    } else {
      register(server, bean, name);
    }
  }

  /** Whether the beans are registered at once: JMX is asked for, or a server exists. */
  static boolean wantedNow() {
    for (String key : System.getProperties().stringPropertyNames()) {
      if (key.startsWith("com.sun.management.jmxremote")) {
        return true;
      }
    }
    return !MBeanServerFactory.findMBeanServer(null).isEmpty();
  }

  /** Opens the server now when JMX is wanted now, else at the {@code quiet} moment of start-up. */
  void openWhenQuiet(Quiet quiet) {
    if (wantedNow()) {
      open();
    } else {
      quiet.then(this::open);
    }
  }

  /** Creates (or finds) the platform MBean server and registers every bean waiting for it. */
  public synchronized void open() {
    if (server != null) {
      return;
    }
    server = ManagementFactory.getPlatformMBeanServer();
    for (Object[] p : pending) {
      register(server, (Supplier<?>) p[0], (String) p[1]);
    }
    pending.clear();
  }

  /**
   * Registers an MXBean; one that cannot be registered (its name taken, say by a second agent) is
   * logged and left out, the agent goes on without it.
   */
  private static void register(MBeanServer server, Supplier<?> bean, String name) {
    try {
      server.registerMBean(bean.get(), new ObjectName(name));
    } catch (Exception e) {
      log.warn("could not register MBean {}: {}", name, e.toString());
    }
  }
}
