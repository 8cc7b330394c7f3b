/**
 * Error pages a badly configured device's web stack returns when provoked — the disclosure Vigil's
 * leak detector looks for. Modelled on the public default error pages of each framework (ASP.NET's
 * "Server Error in '/' Application", Tomcat's exception report, PHP's fatal error, Python's
 * traceback, Express's stack), with fictitious paths and names.
 */

export type ErrorStyle = 'aspnet' | 'java' | 'php' | 'python' | 'node' | 'iis' | 'tomcat' | 'plain';

export interface ErrorPage {
  status: number;
  contentType: string;
  body: string;
  /** The facts this page leaks, for the ground truth: what a detector should extract. */
  leaks: Record<string, string>;
}

export function errorPage(style: ErrorStyle, path: string, product: string): ErrorPage {
  switch (style) {
    case 'aspnet':
      return {
        status: 500,
        contentType: 'text/html; charset=utf-8',
        body: `<html><head><title>Runtime Error</title></head><body bgcolor="white">
<span><H1>Server Error in '/' Application.<hr width=100% size=1 color=silver></H1>
<h2> <i>Object reference not set to an instance of an object.</i> </h2></span>
<b> Description: </b>An unhandled exception occurred during the execution of the current web request.
<b> Exception Details: </b>System.NullReferenceException: Object reference not set to an instance of an object.<br><br>
<b> Source File: </b> C:\\inetpub\\wwwroot\\${product}\\Default.aspx.cs<b> &nbsp;&nbsp; Line: </b> 42
<pre>[NullReferenceException: Object reference not set to an instance of an object.]
   ${product}.Web.DeviceStatus.Page_Load(Object sender, EventArgs e) in C:\\inetpub\\wwwroot\\${product}\\Default.aspx.cs:42
   System.Web.UI.Control.OnLoad(EventArgs e) +95
   System.Web.UI.Page.ProcessRequestMain(Boolean includeStagesBeforeAsyncPoint, Boolean includeStagesAfterAsyncPoint) +2952
</pre>
<hr width=100% size=1 color=silver>
<b>Version Information:</b>&nbsp;Microsoft .NET Framework Version:4.0.30319; ASP.NET Version:4.7.3062.0
</body></html>`,
        leaks: { framework: 'ASP.NET 4.7.3062.0', runtime: '.NET Framework 4.0.30319', path: `C:\\inetpub\\wwwroot\\${product}\\Default.aspx.cs`, line: '42' },
      };
    case 'java':
    case 'tomcat':
      return {
        status: 500,
        contentType: 'text/html;charset=utf-8',
        body: `<!doctype html><html lang="en"><head><title>HTTP Status 500 – Internal Server Error</title></head><body><h1>HTTP Status 500 – Internal Server Error</h1><hr class="line" /><p><b>Type</b> Exception Report</p><p><b>Message</b> Request processing failed; nested exception is java.sql.SQLSyntaxErrorException: ORA-00933: SQL command not properly ended</p><p><b>Exception</b></p><pre>org.springframework.web.util.NestedServletException: Request processing failed; nested exception is java.sql.SQLSyntaxErrorException: ORA-00933: SQL command not properly ended
	org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1014)
	com.${product.toLowerCase()}.web.PatientQueueController.list(PatientQueueController.java:88)
	oracle.jdbc.driver.T4CTTIoer11.processError(T4CTTIoer11.java:494)
</pre><hr class="line" /><h3>Apache Tomcat/8.5.23</h3></body></html>`,
        leaks: { server: 'Apache Tomcat/8.5.23', database: 'Oracle', error: 'ORA-00933', language: 'Java', framework: 'Spring' },
      };
    case 'php':
      return {
        status: 500,
        contentType: 'text/html; charset=UTF-8',
        body: `<br />
<b>Warning</b>:  mysqli_connect(): (HY000/1045): Access denied for user 'devsvc'@'localhost' (using password: YES) in <b>/var/www/html/${product.toLowerCase()}/include/db.php</b> on line <b>12</b><br />
<br />
<b>Fatal error</b>:  Uncaught Error: Call to a member function query() on bool in /var/www/html/${product.toLowerCase()}/status.php:27
Stack trace:
#0 {main}
  thrown in <b>/var/www/html/${product.toLowerCase()}/status.php</b> on line <b>27</b><br />
`,
        leaks: { language: 'PHP', database: 'MySQL', user: 'devsvc', path: `/var/www/html/${product.toLowerCase()}/include/db.php`, line: '12' },
      };
    case 'python':
      return {
        status: 500,
        contentType: 'text/plain',
        body: `Traceback (most recent call last):
  File "/opt/${product.toLowerCase()}/app/views.py", line 57, in device_status
    cur.execute("SELECT * FROM readings WHERE id=" + rid)
psycopg2.errors.SyntaxError: syntax error at or near "'"
LINE 1: SELECT * FROM readings WHERE id='
`,
        leaks: { language: 'Python', database: 'PostgreSQL', path: `/opt/${product.toLowerCase()}/app/views.py`, line: '57' },
      };
    case 'node':
      return {
        status: 500,
        contentType: 'text/html; charset=utf-8',
        body: `<!DOCTYPE html><html><head><title>Error</title></head><body><pre>TypeError: Cannot read properties of undefined (reading 'serial')<br> &nbsp; &nbsp;at /srv/${product.toLowerCase()}/routes/api.js:31:22<br> &nbsp; &nbsp;at Layer.handle [as handle_request] (/srv/${product.toLowerCase()}/node_modules/express/lib/router/layer.js:95:5)</pre></body></html>`,
        leaks: { language: 'Node.js', framework: 'Express', path: `/srv/${product.toLowerCase()}/routes/api.js`, line: '31' },
      };
    case 'iis':
      return {
        status: 500,
        contentType: 'text/html',
        body: `<html><head><title>500 - Internal server error.</title></head><body><div id="header"><h1>Server Error</h1></div>
<div id="content"><h2>500 - Internal server error.</h2><h3>There is a problem with the resource you are looking for, and it cannot be displayed.</h3>
<p>Microsoft OLE DB Provider for SQL Server error '80040e14'</p><p>Unclosed quotation mark after the character string ''.</p><p>/${product}/report.asp, line 19</p></div></body></html>`,
        leaks: { database: 'Microsoft SQL Server', path: `/${product}/report.asp`, line: '19' },
      };
    default:
      return { status: 500, contentType: 'text/plain', body: 'Internal Server Error\n', leaks: {} };
  }
}
