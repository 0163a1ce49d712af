package dev.sluice.agent.control;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import org.junit.jupiter.api.Test;

class BeansTest {

  public interface Probe {
    int getValue();
  }

  private static Object bean() throws Exception {
    return new StandardMBean((Probe) () -> 7, Probe.class);
  }

  @Test
  void beansWaitForTheServerAndAreRegisteredWhenItOpens() throws Exception {
    MBeanServer platform = ManagementFactory.getPlatformMBeanServer();
    ObjectName name = new ObjectName("sluice-test:type=Waiting");
    Beans beans = new Beans();
    beans.register(bean(), name.toString());
    assertFalse(platform.isRegistered(name), "registered before the server was opened");
    beans.open();
    assertTrue(platform.isRegistered(name));
    ObjectName later = new ObjectName("sluice-test:type=Later");
    beans.register(bean(), later.toString());
    assertTrue(platform.isRegistered(later), "a bean made after opening is registered at once");
    platform.unregisterMBean(name);
    platform.unregisterMBean(later);
  }

  @Test
  void withAnMBeanServerAlreadyThereTheBeansAreRegisteredAtOnce() throws Exception {
    MBeanServer platform = ManagementFactory.getPlatformMBeanServer();
    assertTrue(Beans.wantedNow(), "the platform MBean server exists in this JVM");
    ObjectName name = new ObjectName("sluice-test:type=AtOnce");
    Beans beans = new Beans();
    beans.register(bean(), name.toString());
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    try {
      beans.openWhenQuiet(new Quiet(timer, null));
      assertTrue(platform.isRegistered(name));
    } finally {
      timer.shutdownNow();
      platform.unregisterMBean(name);
    }
  }
}
