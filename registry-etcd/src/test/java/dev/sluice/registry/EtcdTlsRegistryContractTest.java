package dev.sluice.registry;

/**
 * The whole registry contract again with TLS on etcd's client port ({@code etcd+https://}),
 * trusting the test certificate through the CA file setting.
 */
class EtcdTlsRegistryContractTest extends EtcdRegistryContractTest {

  @Override
  boolean tls() {
    return true;
  }
}
