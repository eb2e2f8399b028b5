using System.Net.Http.Headers;
using System.Text.Json;
using Elastic.Clients.Elasticsearch;
using Elastic.Clients.Elasticsearch.Core.Bulk;
using Elastic.Clients.Elasticsearch.QueryDsl;
using Pipeline.Schemas.Events;
using Pipeline.Testing.Elasticsearch;
using Pipeline.Tests.Sinks.Elasticsearch;

namespace Pipeline.Tests.Testing;

/// <summary>The test server is only worth having if it is faithful: the official client must accept it, and it must answer like Elasticsearch.</summary>
public sealed class ElasticsearchTestServerTests : IAsyncLifetime
{
    private ElasticsearchTestServer _server = null!;
    private ElasticsearchClient _client = null!;
    private RawElasticsearchClient _raw = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server = await ElasticsearchTestServer.StartAsync(cancellationToken: Ct);
        _client = new ElasticsearchClient(new ElasticsearchClientSettings(_server.Url));
        _raw = new RawElasticsearchClient(_server.Url);
    }

    public async ValueTask DisposeAsync()
    {
        _raw.Dispose();
        await _server.DisposeAsync();
    }

    private const string LogsTemplate = """
        {
          "index_patterns": ["logs-app-*"], "data_stream": {}, "priority": 300,
          "template": { "mappings": { "properties": {
            "@timestamp": { "type": "date" }, "host": { "properties": { "name": { "type": "keyword" } } }, "bytes": { "type": "long" } } } }
        }
        """;

    [Fact]
    public async Task TheOfficialClientReadsTheServerInfoAsElasticsearch9()
    {
        var info = await _client.InfoAsync(Ct);

        Assert.True(info.IsValidResponse, info.DebugInformation);
        Assert.StartsWith("9.", info.Version.Number);
        Assert.Equal("You Know, for Search", info.Tagline);
        Assert.Equal("127.0.0.1", _server.Url.Host);
    }

    [Fact]
    public async Task EveryAnswerCarriesTheElasticProductHeaderEvenErrors()
    {
        var answers = new[]
        {
            await _raw.GetAsync("/", Ct),
            await _raw.GetAsync("/no-such-index/_search", Ct),
            await _raw.GetAsync("/_index_template/missing", Ct),
            await _raw.GetAsync("/_nonsense", Ct),
        };

        Assert.Equal([200, 404, 404, 400], answers.Select(a => a.Status));
        Assert.All(answers, a => Assert.Equal(["Elasticsearch"], a.Headers.GetValues("X-Elastic-Product")));
    }

    [Fact]
    public async Task DocumentsBulkIndexedByTheOfficialClientAreFoundByItsSearch()
    {
        var docs = Enumerable.Range(0, 5).Select(n => SampleEvents.Log(n, host: n < 2 ? "web-1" : "web-2")).ToList();
        var bulk = new BulkRequest("logs-app-default") { Operations = [] };
        foreach (var doc in docs) bulk.Operations.Add(new BulkCreateOperation<LogEvent>(doc) { Id = doc.Event.Id });

        var written = await _client.BulkAsync(bulk, Ct);
        var search = await _client.SearchAsync<LogEvent>(new SearchRequest("logs-app-default")
        {
            Query = new TermQuery { Field = "host.name", Value = "web-2" },
            Size = 10,
        }, Ct);

        Assert.True(written.IsValidResponse, written.DebugInformation);
        Assert.All(written.Items, item => Assert.Equal(201, item.Status));
        Assert.True(search.IsValidResponse, search.DebugInformation);
        Assert.Equal(3, search.Total);
        Assert.Equal(docs.Skip(2).Select(d => d.Event.Id), search.Hits.Select(h => h.Id));
        Assert.Equal(docs[2].Message, search.Documents.First().Message);
        Assert.StartsWith(".ds-logs-app-default-", search.Hits.First().Index);
    }

    [Fact]
    public async Task TheOfficialClientSendsGzippedBodiesAndTheServerDecodesThem()
    {
        var doc = SampleEvents.Log(7);
        var response = await _client.IndexAsync(doc, i => i.Index("plain-index").Id("doc-7"), Ct);

        Assert.True(response.IsValidResponse, response.DebugInformation);
        var request = Assert.Single(_server.Requests, r => r.Method == "PUT" || r.Method == "POST");
        Assert.True(request.WasGzipped);
        Assert.True(request.BodyBytes > 0);
        var stored = Assert.Single(_server.Documents("plain-index"));
        Assert.Equal("doc-7", stored.Id);
        Assert.Equal(doc.Message, stored.Source.GetProperty("message").GetString());
    }

    [Fact]
    public async Task AGzippedBulkBodyIsDecodedBeforeItIsParsed()
    {
        var body = """
            {"create":{"_index":"gz","_id":"1"}}
            {"a":1}

            """;
        var response = await _raw.SendAsync(HttpMethod.Post, "/_bulk", body, "application/x-ndjson", gzip: true, Ct);

        Assert.Equal(200, response.Status);
        Assert.False(response.At("errors").GetBoolean());
        Assert.True(_server.Requests.Single().WasGzipped);
        Assert.Single(_server.Documents("gz"));
    }

    [Fact]
    public async Task CreatingTheSameIdTwiceAnswers409VersionConflict()
    {
        string[] lines = ["""{"create":{"_index":"idx","_id":"a"}}""", """{"n":1}"""];

        var first = await _raw.BulkAsync(lines, cancellationToken: Ct);
        var second = await _raw.BulkAsync(lines, cancellationToken: Ct);

        Assert.Equal(201, first.At("items.0.create.status").GetInt32());
        Assert.Equal("created", first.At("items.0.create.result").GetString());
        Assert.Equal(200, second.Status);
        Assert.True(second.At("errors").GetBoolean());
        Assert.Equal(409, second.At("items.0.create.status").GetInt32());
        Assert.Equal("version_conflict_engine_exception", second.At("items.0.create.error.type").GetString());
        Assert.Single(_server.Documents("idx"));
    }

    [Fact]
    public async Task AnIndexActionOverwritesARegularIndexDocumentAndBumpsItsVersion()
    {
        await _raw.BulkAsync(["""{"index":{"_index":"idx","_id":"a"}}""", """{"n":1}"""], cancellationToken: Ct);
        var second = await _raw.BulkAsync(["""{"index":{"_index":"idx","_id":"a"}}""", """{"n":2}"""], cancellationToken: Ct);

        Assert.Equal(200, second.At("items.0.index.status").GetInt32());
        Assert.Equal("updated", second.At("items.0.index.result").GetString());
        var doc = Assert.Single(_server.Documents("idx"));
        Assert.Equal(2, doc.Version);
        Assert.Equal(2, doc.Source.GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task ADataStreamAcceptsOnlyCreateAndOnlyDocumentsWithATimestamp()
    {
        await _raw.PutAsync("/_index_template/app-logs", LogsTemplate, Ct);

        var response = await _raw.BulkAsync(
        [
            """{"index":{"_index":"logs-app-default","_id":"1"}}""", """{"@timestamp":"2025-01-01T00:00:00Z"}""",
            """{"create":{"_index":"logs-app-default","_id":"2"}}""", """{"message":"no time"}""",
            """{"create":{"_index":"logs-app-default","_id":"3"}}""", """{"@timestamp":"2025-01-01T00:00:00Z"}""",
        ], cancellationToken: Ct);

        Assert.True(_server.IsDataStream("logs-app-default"));
        Assert.Equal(400, response.At("items.0.index.status").GetInt32());
        Assert.Equal("illegal_argument_exception", response.At("items.0.index.error.type").GetString());
        Assert.Equal(400, response.At("items.1.create.status").GetInt32());
        Assert.Equal("document_parsing_exception", response.At("items.1.create.error.type").GetString());
        Assert.Contains("[@timestamp] is missing", response.At("items.1.create.error.reason").GetString());
        Assert.Equal(201, response.At("items.2.create.status").GetInt32());
        Assert.StartsWith(".ds-logs-app-default-", response.At("items.2.create._index").GetString());
    }

    [Fact]
    public async Task ASourceThatIsNotJsonIsADocumentParsingException()
    {
        var response = await _raw.BulkAsync(
        [
            """{"create":{"_index":"idx","_id":"1"}}""", """{"broken": """,
            """{"create":{"_index":"idx","_id":"2"}}""", """{"fine": true}""",
        ], cancellationToken: Ct);

        Assert.Equal(400, response.At("items.0.create.status").GetInt32());
        Assert.Equal("document_parsing_exception", response.At("items.0.create.error.type").GetString());
        Assert.Equal(201, response.At("items.1.create.status").GetInt32());
    }

    [Fact]
    public async Task AValueThatDoesNotFitTheMappedTypeIsRefusedLikeElasticsearchDoes()
    {
        await _raw.PutAsync("/_index_template/app-logs", LogsTemplate, Ct);

        var response = await _raw.BulkAsync(
        [
            """{"create":{"_index":"logs-app-x","_id":"1"}}""", """{"@timestamp":"2025-01-01T00:00:00Z","bytes":"many"}""",
            """{"create":{"_index":"logs-app-x","_id":"2"}}""", """{"@timestamp":"2025-01-01T00:00:00Z","host":"web-1"}""",
            """{"create":{"_index":"logs-app-x","_id":"3"}}""", """{"@timestamp":"not a date"}""",
            """{"create":{"_index":"logs-app-x","_id":"4"}}""", """{"@timestamp":"2025-01-01T00:00:00Z","bytes":"42","host.name":"web-1"}""",
        ], cancellationToken: Ct);

        Assert.Equal("document_parsing_exception", response.At("items.0.create.error.type").GetString());
        Assert.Contains("failed to parse field [bytes] of type [long]", response.At("items.0.create.error.reason").GetString());
        Assert.Contains("tried to parse field [host] as object", response.At("items.1.create.error.reason").GetString());
        Assert.Contains("of type [date]", response.At("items.2.create.error.reason").GetString());
        Assert.Equal(201, response.At("items.3.create.status").GetInt32());
    }

    [Fact]
    public async Task DynamicMappingFixesAFieldTypeOnFirstSightAndLaterConflictsAreRefused()
    {
        var response = await _raw.BulkAsync(
        [
            """{"create":{"_index":"dyn","_id":"1"}}""", """{"user":{"id":7}}""",
            """{"create":{"_index":"dyn","_id":"2"}}""", """{"user":{"id":"seven"}}""",
            """{"create":{"_index":"dyn","_id":"3"}}""", """{"user":"bob"}""",
        ], cancellationToken: Ct);

        Assert.Equal(201, response.At("items.0.create.status").GetInt32());
        Assert.Equal("long", _server.FieldType("dyn", "user.id"));
        Assert.Equal(400, response.At("items.1.create.status").GetInt32());
        Assert.Equal(400, response.At("items.2.create.status").GetInt32());
    }

    [Fact]
    public async Task AnIndexTemplateIsReadBackByTheOfficialClient()
    {
        var put = await _raw.PutAsync("/_index_template/app-logs", LogsTemplate, Ct);
        var got = await _client.Indices.GetIndexTemplateAsync("app-logs", Ct);
        var missing = await _client.Indices.GetIndexTemplateAsync("nope", Ct);

        Assert.Equal(200, put.Status);
        Assert.True(got.IsValidResponse, got.DebugInformation);
        var template = Assert.Single(got.IndexTemplates);
        Assert.Equal(["logs-app-*"], template.IndexTemplate.IndexPatterns.Select(p => p.ToString()));
        Assert.NotNull(template.IndexTemplate.DataStream);
        Assert.Equal(300, template.IndexTemplate.Priority);
        Assert.False(missing.IsValidResponse);
        Assert.Equal(404, missing.ApiCallDetails.HttpStatusCode);
    }

    [Fact]
    public async Task ATemplateWithAnUnknownMappingParameterIsRefused()
    {
        var response = await _raw.PutAsync("/_index_template/bad", """
            { "index_patterns": ["bad-*"], "template": { "mappings": { "properties": { "message": { "type": "text", "ignore_above": 10 } } } } }
            """, Ct);

        Assert.Equal(400, response.Status);
        Assert.Equal("mapper_parsing_exception", response.At("error.type").GetString());
        Assert.Contains("unknown parameter [ignore_above]", response.At("error.reason").GetString());
        Assert.Null(_server.IndexTemplate("bad"));
    }

    [Fact]
    public async Task TwoTemplatesWithOverlappingPatternsAndTheSamePriorityAreRefused()
    {
        await _raw.PutAsync("/_index_template/app-logs", LogsTemplate, Ct);

        var response = await _raw.PutAsync("/_index_template/other", """{ "index_patterns": ["logs-app-default"], "priority": 300 }""", Ct);

        Assert.Equal(400, response.Status);
        Assert.Contains("same priority [300]", response.At("error.reason").GetString());
    }

    [Fact]
    public async Task AnIlmPolicyIsStoredAndReadBack()
    {
        var put = await _raw.PutAsync("/_ilm/policy/p1", """
            { "policy": { "phases": { "hot": { "actions": { "rollover": { "max_age": "1d" } } }, "delete": { "min_age": "30d", "actions": { "delete": {} } } } } }
            """, Ct);
        var get = await _raw.GetAsync("/_ilm/policy/p1", Ct);
        var typo = await _raw.PutAsync("/_ilm/policy/p2", """{ "policy": { "phases": { "hot": { "actions": { "rollover": { "max_primary_size": "1gb" } } } } } }""", Ct);

        Assert.True(put.At("acknowledged").GetBoolean());
        Assert.Equal("1d", get.At("p1.policy.phases.hot.actions.rollover.max_age").GetString());
        Assert.Equal(400, typo.Status);
    }

    [Fact]
    public async Task SearchSupportsMatchAllTermMatchAndSizeOnDottedPaths()
    {
        await _raw.BulkAsync(
        [
            """{"create":{"_index":"s","_id":"1"}}""", """{"host":{"name":"web-1"},"message":"Disk FULL on /var"}""",
            """{"create":{"_index":"s","_id":"2"}}""", """{"host.name":"web-2","message":"all good"}""",
            """{"create":{"_index":"s","_id":"3"}}""", """{"host":{"name":"web-1"},"message":"disk ok"}""",
        ], cancellationToken: Ct);

        var all = await _raw.PostAsync("/s/_search", """{"query":{"match_all":{}},"size":2}""", Ct);
        var term = await _raw.PostAsync("/s/_search", """{"query":{"term":{"host.name":"web-2"}}}""", Ct);
        var match = await _raw.PostAsync("/s/_search", """{"query":{"match":{"message":"disk"}}}""", Ct);
        var count = await _raw.PostAsync("/s/_count", """{"query":{"term":{"host.name":{"value":"web-1"}}}}""", Ct);
        var unknown = await _raw.PostAsync("/s/_search", """{"query":{"fuzzy_wuzzy":{}}}""", Ct);

        Assert.Equal(3, all.At("hits.total.value").GetInt32());
        Assert.Equal(2, all.At("hits.hits").GetArrayLength());
        Assert.Equal("2", term.At("hits.hits.0._id").GetString());
        Assert.Equal(["1", "3"], match.At("hits.hits").EnumerateArray().Select(h => h.GetProperty("_id").GetString()));
        Assert.Equal(2, count.At("count").GetInt32());
        Assert.Equal("parsing_exception", unknown.At("error.type").GetString());
    }

    [Fact]
    public async Task RejectNextItemsAnswers429ForExactlyThatManyItems()
    {
        _server.RejectNextItems(2);

        var response = await _raw.BulkAsync(Enumerable.Range(0, 4).SelectMany(n => new[] { $$$"""{"create":{"_index":"r","_id":"{{{n}}}"}}""", "{}" }), cancellationToken: Ct);

        var statuses = response.At("items").EnumerateArray().Select(i => i.GetProperty("create").GetProperty("status").GetInt32());
        Assert.Equal([429, 429, 201, 201], statuses);
        Assert.Equal("es_rejected_execution_exception", response.At("items.0.create.error.type").GetString());
        Assert.Equal(2, _server.Documents("r").Count);
    }

    [Fact]
    public async Task FailNextRequestsFailsWholeRequestsWithAnElasticsearchErrorBody()
    {
        _server.FailNextRequests(1, 503);

        var failed = await _raw.GetAsync("/", Ct);
        var next = await _raw.GetAsync("/", Ct);

        Assert.Equal(503, failed.Status);
        Assert.Equal("unavailable_shards_exception", failed.At("error.type").GetString());
        Assert.Equal(200, next.Status);
    }

    [Fact]
    public async Task ADroppedConnectionGivesTheClientNoAnswerAtAll()
    {
        _server.DropNextConnections(1);

        await Assert.ThrowsAsync<HttpRequestException>(() => _raw.GetAsync("/", Ct));
        Assert.Equal(200, (await _raw.GetAsync("/", Ct)).Status);
        // Logged in the order the handlers finish, which under load need not be the order the requests came in; and
        // the dropped request's handler may finish after the client has its error and the next answer (one CI run).
        await Pipeline.Testing.Eventually.True(() => _server.Requests.Count >= 2, TimeSpan.FromSeconds(5), "both requests logged");
        Assert.Equal([0, 200], _server.Requests.Select(r => r.Status).Order());
    }

    [Fact]
    public async Task AResponseDelayOutlastsAClientTimeout()
    {
        _server.ResponseDelay = TimeSpan.FromSeconds(5);
        var client = new ElasticsearchClient(new ElasticsearchClientSettings(_server.Url).RequestTimeout(TimeSpan.FromMilliseconds(300)));

        var info = await client.InfoAsync(Ct);

        Assert.False(info.IsValidResponse);
        Assert.Null(info.ApiCallDetails.HttpStatusCode);
    }

    [Fact]
    public async Task WithSecurityOnRequestsNeedCredentialsAndTemplateWritesNeedThePrivilege()
    {
        _server.RequireBasicAuth("writer", "secret", canManageTemplates: false);
        using var anonymous = new RawElasticsearchClient(_server.Url);
        using var writer = new RawElasticsearchClient(_server.Url, "Basic " + Convert.ToBase64String("writer:secret"u8));

        var noCredentials = await anonymous.GetAsync("/", Ct);
        var info = await writer.GetAsync("/", Ct);
        var template = await writer.PutAsync("/_index_template/t", """{"index_patterns":["t-*"]}""", Ct);

        Assert.Equal(401, noCredentials.Status);
        Assert.Equal("security_exception", noCredentials.At("error.type").GetString());
        Assert.Equal(200, info.Status);
        Assert.Equal(403, template.Status);
        Assert.Contains("manage_index_templates", template.At("error.reason").GetString());
    }

    [Fact]
    public async Task MismatchedCompatibleWithVersionsAreRefusedLikeElasticsearchDoes()
    {
        using var http = new HttpClient { BaseAddress = _server.Url };
        using var request = new HttpRequestMessage(HttpMethod.Post, "_bulk")
        {
            Content = new StringContent("{\"create\":{\"_index\":\"x\"}}\n{}\n"),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-ndjson");
        request.Headers.TryAddWithoutValidation("Accept", "application/vnd.elasticsearch+json;compatible-with=9");

        using var response = await http.SendAsync(request, Ct);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal("media_type_header_exception", body.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task ABulkBodyWithoutTheFinalNewlineIsRefused()
    {
        var response = await _raw.SendAsync(HttpMethod.Post, "/_bulk", "{\"create\":{\"_index\":\"x\"}}\n{}", "application/x-ndjson", cancellationToken: Ct);

        Assert.Equal(400, response.Status);
        Assert.Contains("terminated by a newline", response.At("error.reason").GetString());
    }

    [Fact]
    public async Task TheServerCountsBulkRequestsAndItems()
    {
        await _raw.BulkAsync(["""{"create":{"_index":"c","_id":"1"}}""", "{}", """{"create":{"_index":"c","_id":"2"}}""", "{}"], cancellationToken: Ct);
        _server.FailNextRequests(1);
        await _raw.BulkAsync(["""{"create":{"_index":"c","_id":"3"}}""", "{}"], cancellationToken: Ct);

        Assert.Equal(2, _server.BulkRequestCount);
        Assert.Equal(2, _server.TotalItemsReceived);
    }
}
