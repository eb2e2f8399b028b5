using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Processors;

namespace Pipeline.Tests.Plumbing.Kafka;

public class KafkaSecurityTests
{
    private const string Sasl = """
        [kafka]
        bootstrap = "kafka-1:9093"
        security_protocol = "SASL_SSL"
        sasl_mechanism = "SCRAM-SHA-512"
        sasl_username = "pipeline"
        sasl_password = "${env:KAFKA_TEST_PASSWORD:-pw}"
        """;

    [Fact]
    public void EveryClientAndTheStreamsAppGetTheSameSecuritySettings()
    {
        var config = ConfigLoader.Parse(Sasl, "k.toml").Config;
        var settings = new KafkaSettings(config.Kafka, config.Kafka.Bootstrap, embedded: false);
        var producer = settings.Producer("p");
        Assert.Equal(Confluent.Kafka.SecurityProtocol.SaslSsl, producer.SecurityProtocol);
        Assert.Equal(Confluent.Kafka.SaslMechanism.ScramSha512, producer.SaslMechanism);
        Assert.Equal("pipeline", producer.SaslUsername);
        Assert.Equal("pw", producer.SaslPassword);
        var streams = StreamProcessorService.StreamConfig(config, settings, NullLoggerFactory.Instance);
        Assert.Equal(Confluent.Kafka.SecurityProtocol.SaslSsl, streams.SecurityProtocol);
        Assert.Equal(Confluent.Kafka.SaslMechanism.ScramSha512, streams.SaslMechanism);
        Assert.Equal("pw", streams.SaslPassword);
    }

    [Theory]
    [InlineData("[kafka]\nsecurity_protocol = \"TLS\"\n", "kafka.security_protocol", 2)]
    [InlineData("[kafka]\nsecurity_protocol = \"SASL_SSL\"\nsasl_mechanism = \"GSSAPI\"\n", "kafka.sasl_mechanism", 3)]
    [InlineData("[kafka]\nssl_ca_location = \"/nonexistent/ca.pem\"\n", "no such file", 2)]
    [InlineData("[kafka]\nsecurity_protocol = \"SASL_PLAINTEXT\"\nsasl_mechanism = \"PLAIN\"\n", "sasl_username", 1)]
    public void BadSecuritySettingsAreConfigErrorsNamingTheKey(string toml, string fragment, int line)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(toml, "k.toml"));
        Assert.Contains(fragment, e.Errors[0].Message + e.Errors[0].Location);
        Assert.True(e.Errors[0].Location.Line == line || line == 1, e.Errors[0].ToString());
    }

    [Fact]
    public void ConfigCheckNeverPrintsTheSaslPassword()
    {
        var config = ConfigLoader.Parse(Sasl.Replace("${env:KAFKA_TEST_PASSWORD:-pw}", "hunter2-secret", StringComparison.Ordinal), "k.toml").Config;
        Assert.DoesNotContain("hunter2-secret", ConfigPrinter.ToToml(config));
    }
}
