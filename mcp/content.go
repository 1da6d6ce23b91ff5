package mcp

import (
	"encoding/base64"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// Content is one content block of a tool result, a prompt message or a
// sampling message (2025-11-25 server/tools §Tool Result). Type says which
// members are set:
//
//   - "text": Text;
//   - "image", "audio": Data (base64) and MIMEType;
//   - "resource": Resource (an embedded resource);
//   - "resource_link": URI and Name, optionally Title, Description,
//     MIMEType and Size.
//
// Use [TextContent], [ImageContent], [AudioContent], [EmbeddedResource]
// and [ResourceLink] to build one. A block is encoded with the members its
// type requires, even when empty.
type Content struct {
	Type        string            `json:"type"`
	Text        string            `json:"text,omitempty"`
	Data        string            `json:"data,omitempty"`
	MIMEType    string            `json:"mimeType,omitempty"`
	Resource    *ResourceContents `json:"resource,omitempty"`
	URI         string            `json:"uri,omitempty"`
	Name        string            `json:"name,omitempty"`
	Title       string            `json:"title,omitempty"`
	Description string            `json:"description,omitempty"`
	Size        *int64            `json:"size,omitempty"`
	Annotations *Annotations      `json:"annotations,omitempty"`
	Meta        Meta              `json:"_meta,omitempty"`
}

// TextContent returns a text content block.
func TextContent(text string) Content { return Content{Type: "text", Text: text} }

// TextResult returns a tool result of one text content block, the
// result most tools return: the same as
// &CallToolResult{Content: []Content{TextContent(text)}}, in one
// allocation instead of two. Its Content has room for that one block:
// appending more copies it, as for any full slice.
func TextResult(text string) *CallToolResult {
	r := &textResult{}
	r.c[0] = Content{Type: "text", Text: text}
	r.res.Content = r.c[:]
	return &r.res
}

// A textResult is what TextResult allocates.
type textResult struct {
	res CallToolResult
	c   [1]Content
}

// ImageContent returns an image content block; data is the raw image,
// sent base64-encoded.
func ImageContent(data []byte, mimeType string) Content {
	return Content{Type: "image", Data: base64.StdEncoding.EncodeToString(data), MIMEType: mimeType}
}

// AudioContent returns an audio content block; data is the raw audio, sent
// base64-encoded.
func AudioContent(data []byte, mimeType string) Content {
	return Content{Type: "audio", Data: base64.StdEncoding.EncodeToString(data), MIMEType: mimeType}
}

// EmbeddedResource returns a content block that embeds rc.
func EmbeddedResource(rc *ResourceContents) Content {
	return Content{Type: "resource", Resource: rc}
}

// ResourceLink returns a content block that links to the resource r.
func ResourceLink(r *Resource) Content {
	return Content{Type: "resource_link", URI: r.URI, Name: r.Name, Title: r.Title,
		Description: r.Description, MIMEType: r.MIMEType, Size: r.Size, Annotations: r.Annotations}
}

// MarshalJSON writes the members Type requires, and the optional ones
// that are set.
func (c Content) MarshalJSON() ([]byte, error) {
	switch c.Type {
	case "text":
		return jsonrpc.Marshal(struct {
			Type        string       `json:"type"`
			Text        string       `json:"text"`
			Annotations *Annotations `json:"annotations,omitempty"`
			Meta        Meta         `json:"_meta,omitempty"`
		}{c.Type, c.Text, c.Annotations, c.Meta})
	case "image", "audio":
		return jsonrpc.Marshal(struct {
			Type        string       `json:"type"`
			Data        string       `json:"data"`
			MIMEType    string       `json:"mimeType"`
			Annotations *Annotations `json:"annotations,omitempty"`
			Meta        Meta         `json:"_meta,omitempty"`
		}{c.Type, c.Data, c.MIMEType, c.Annotations, c.Meta})
	case "resource":
		return jsonrpc.Marshal(struct {
			Type        string            `json:"type"`
			Resource    *ResourceContents `json:"resource"`
			Annotations *Annotations      `json:"annotations,omitempty"`
			Meta        Meta              `json:"_meta,omitempty"`
		}{c.Type, c.Resource, c.Annotations, c.Meta})
	case "resource_link":
		return jsonrpc.Marshal(struct {
			Type        string       `json:"type"`
			URI         string       `json:"uri"`
			Name        string       `json:"name"`
			Title       string       `json:"title,omitempty"`
			Description string       `json:"description,omitempty"`
			MIMEType    string       `json:"mimeType,omitempty"`
			Size        *int64       `json:"size,omitempty"`
			Annotations *Annotations `json:"annotations,omitempty"`
			Meta        Meta         `json:"_meta,omitempty"`
		}{c.Type, c.URI, c.Name, c.Title, c.Description, c.MIMEType, c.Size, c.Annotations, c.Meta})
	}
	type plain Content
	return jsonrpc.Marshal(plain(c))
}

// ResourceContents are the contents of a resource: Text, or Blob (raw
// bytes, sent base64-encoded) when Blob is not nil (2025-11-25
// server/resources §Resource Contents).
type ResourceContents struct {
	URI      string `json:"uri"`
	MIMEType string `json:"mimeType,omitempty"`
	Text     string `json:"text,omitempty"`
	Blob     []byte `json:"blob,omitempty"`
	Meta     Meta   `json:"_meta,omitempty"`
}

// MarshalJSON writes text, or blob when Blob is set.
func (rc *ResourceContents) MarshalJSON() ([]byte, error) {
	if rc.Blob != nil {
		return jsonrpc.Marshal(struct {
			URI      string `json:"uri"`
			MIMEType string `json:"mimeType,omitempty"`
			Blob     string `json:"blob"`
			Meta     Meta   `json:"_meta,omitempty"`
		}{rc.URI, rc.MIMEType, base64.StdEncoding.EncodeToString(rc.Blob), rc.Meta})
	}
	return jsonrpc.Marshal(struct {
		URI      string `json:"uri"`
		MIMEType string `json:"mimeType,omitempty"`
		Text     string `json:"text"`
		Meta     Meta   `json:"_meta,omitempty"`
	}{rc.URI, rc.MIMEType, rc.Text, rc.Meta})
}

// UnmarshalJSON reads text or a base64 blob.
func (rc *ResourceContents) UnmarshalJSON(b []byte) error {
	var w struct {
		URI      string  `json:"uri"`
		MIMEType string  `json:"mimeType"`
		Text     string  `json:"text"`
		Blob     *string `json:"blob"`
		Meta     Meta    `json:"_meta"`
	}
	if err := jsonrpc.Unmarshal(b, &w); err != nil {
		return err
	}
	*rc = ResourceContents{URI: w.URI, MIMEType: w.MIMEType, Text: w.Text, Meta: w.Meta}
	if w.Blob != nil {
		blob, err := base64.StdEncoding.DecodeString(*w.Blob)
		if err != nil {
			return err
		}
		rc.Blob = blob
	}
	return nil
}
